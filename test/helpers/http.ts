/** Plain HTTP helpers against the gateway. */
export interface HttpAnswer {
  status: number;
  body: string;
  headers: Headers;
}

export async function http(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** POSTs a structured CloudEvent to /_rig/v1/events. */
export function postEvent(baseUrl: string, event: Record<string, unknown>, contentType = 'application/cloudevents+json'): Promise<HttpAnswer> {
  return http(`${baseUrl}/_rig/v1/events`, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(event) });
}

export function putSubscriptions(
  baseUrl: string,
  token: string,
  subscriptions: unknown,
  opts: { kind?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<HttpAnswer> {
  return http(`${baseUrl}/_rig/v1/connection/${opts.kind ?? 'sse'}/${token}/subscriptions`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
    body: opts.rawBody ?? JSON.stringify({ subscriptions }),
  });
}

let seq = 0;
/** A 0.2 CloudEvent with a unique id. */
export function greeting(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { specversion: '0.2', type: 'greeting', source: 'test', id: `ev-${process.pid}-${++seq}`, data: { name }, ...extra };
}
