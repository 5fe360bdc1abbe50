/**
 * `/v3/apis` on the internal API (RIG spec 3.2), and `/v2/apis`, which RIG served identically:
 *   GET    /v3/apis      -> 200, every active definition
 *   POST   /v3/apis      -> 400 error map | 409 id active | 201 {"message":"ok"} (a deleted id is re-created)
 *   GET    /v3/apis/:id  -> 200 definition | 404 (also when deleted)
 *   PUT    /v3/apis/:id  -> 400 error map | 404 | 200 {"message":"ok"}; the path id replaces any body id,
 *                           the body's top-level keys replace the stored ones
 *   DELETE /v3/apis/:id  -> 204 | 404; the definition becomes a tombstone (active: false)
 * A change is answered only after every shard has compiled it, so a client that gets 201 can use
 * the new route at once on any connection.
 *
 * Bodies are JSON. RIG also parsed form encodings into the same maps; those give 415 here. A body
 * that is JSON but not an object is validated as an empty definition, as RIG did with its `_json`
 * wrapper, and a POST without id gets the id errors (RIG answered 500).
 */
import { errorMapJson, validateApi } from '../../shared/apis/validate.js';
import { sortedJson } from '../../shared/apis/json.js';
import { isObject, type JsonObject } from '../../shared/apis/types.js';
import { GatewayError, err } from '../../shared/errors.js';
import { errorResponse, header, readBody, send, snapshot, track, writeResponse } from '../../shared/http/uws-http.js';
import type { Tracked } from '../../shared/http/uws-http.js';
import type { Logger } from '../../shared/logger.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../shared/uws.js';
import type { ApiStore } from '../apis/api-store.js';

const JSON_TYPE: [string, string] = ['content-type', 'application/json; charset=utf-8'];
const OK = '{"message":"ok"}';

export interface ApisRoutesDeps {
  store: ApiStore;
  /**
   * Sends the active definitions to the shards, and the changed one (`id`) to the other nodes
   * when they are replicated; resolves when this node's shards serve them.
   */
  publish(id?: string): Promise<void>;
  maxRequestBodyBytes: number;
  maxHeaderValueBytes: number;
  log: Logger;
}

export function registerApisRoutes(app: TemplatedApp, deps: ApisRoutesDeps): void {
  const { store } = deps;
  for (const base of ['/v3/apis', '/v2/apis']) {
    app.get(base, (res) => writeResponse(res, 200, `[${store.active().map((a) => sortedJson(a)).join(',')}]`, [JSON_TYPE]));

    app.get(`${base}/:id`, (res, req) => {
      const id = pathId(req);
      if (id === undefined) return answerError(res, err.apiBodyInvalid());
      const api = store.get(id);
      if (!api) return answerError(res, err.apiNotFound(id));
      writeResponse(res, 200, sortedJson(api), [JSON_TYPE]);
    });

    app.post(base, (res, req) =>
      withJsonBody(res, req, deps, (t, params) => {
        const errors = validateApi(params);
        if (errors) return sendError(t, err.apiInvalid(errorMapJson(errors)));
        if (store.create(params) === 'exists') return sendError(t, err.apiExists(params['id'] as string));
        publishThen(t, deps, 201, OK, params['id'] as string);
      }),
    );

    app.put(`${base}/:id`, (res, req) => {
      const id = pathId(req);
      if (id === undefined) return answerError(res, err.apiBodyInvalid());
      withJsonBody(res, req, deps, (t, body) => {
        const params: JsonObject = { ...body, id };
        const errors = validateApi(params);
        if (errors) return sendError(t, err.apiInvalid(errorMapJson(errors)));
        if (!store.update(id, params)) return sendError(t, err.apiNotFound(id));
        publishThen(t, deps, 200, OK, id);
      });
    });

    app.del(`${base}/:id`, (res, req) => {
      const id = pathId(req);
      if (id === undefined) return answerError(res, err.apiBodyInvalid());
      if (!store.deactivate(id)) return answerError(res, err.apiNotFound(id));
      publishThen(track(res), deps, 204, '', id);
    });
  }
}

/** The `:id` segment, URL-decoded as Phoenix did; undefined when its percent-encoding is broken. */
function pathId(req: HttpRequest): string | undefined {
  try {
    return decodeURIComponent(req.getParameter(0) ?? '');
  } catch {
    return undefined;
  }
}

/** Reads a JSON body (MAX_REQUEST_BODY_BYTES) and hands over the object, `{}` for non-objects. */
function withJsonBody(res: HttpResponse, req: HttpRequest, deps: ApisRoutesDeps, onBody: (t: Tracked, body: JsonObject) => void): void {
  let contentType: string | undefined;
  try {
    contentType = header(snapshot(req, deps.maxHeaderValueBytes).headers, 'content-type');
  } catch (e) {
    return answerError(res, e);
  }
  if (contentType !== undefined && !isJsonType(contentType)) return answerError(res, err.apiUnsupportedMediaType());
  const t = track(res);
  readBody(
    t,
    deps.maxRequestBodyBytes,
    (raw) => {
      let body: unknown = {};
      const text = raw.toString('utf8');
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          return sendError(t, err.apiBodyInvalid());
        }
      }
      try {
        onBody(t, isObject(body) ? body : {});
      } catch (e) {
        deps.log.error('API definition request failed', { error: e });
        sendError(t, e);
      }
    },
    (e) => send(t, e.status, e.message),
  );
}

function isJsonType(contentType: string): boolean {
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}

/** Answers after the shards serve the change (publish never rejects; it times out with a warning). */
function publishThen(t: Tracked, deps: ApisRoutesDeps, status: number, body: string, id: string): void {
  deps.publish(id).then(
    () => send(t, status, body, status === 204 ? undefined : [JSON_TYPE]),
    (e) => {
      deps.log.error('publishing API definitions failed', { error: e });
      send(t, status, body, status === 204 ? undefined : [JSON_TYPE]);
    },
  );
}

function answerError(res: HttpResponse, e: unknown): void {
  const r = errorResponse(e);
  writeResponse(res, r.status, r.body, isJsonError(e) ? [JSON_TYPE] : undefined);
}

function sendError(t: Tracked, e: unknown): void {
  const r = errorResponse(e);
  send(t, r.status, r.body, isJsonError(e) ? [JSON_TYPE] : undefined);
}

/** The /v3/apis errors have JSON bodies; the shared ones (413, 431) are plain text. */
function isJsonError(e: unknown): boolean {
  return e instanceof GatewayError && e.code.startsWith('GW_ERR_API_');
}
