/** Shared pieces of the Kafka source tests: gateway env, readiness wait, subscribers of all transports. */
import { LongPollClient, SseClient, WsClient } from '../helpers/clients.js';
import type { ReceivedEvent } from '../helpers/clients.js';
import type { RunningGateway } from '../helpers/gateway.js';
import { http } from '../helpers/http.js';
import { GREETING_EXTRACTORS } from '../helpers/rig-scenarios.js';
import { waitFor } from '../helpers/wait.js';

export function kafkaEnv(brokers: string, topic: string, group: string): Record<string, string> {
  return {
    EXTRACTORS: GREETING_EXTRACTORS,
    KAFKA_BROKERS: brokers,
    KAFKA_SOURCE_TOPICS: topic,
    KAFKATOFILTER_KAFKA_GROUP_ID: group,
    KAFKA_RESTART_DELAY_MS: '1000',
    LONGPOLL_TIMEOUT_MS: '500',
  };
}

/** Waits for 200 from /ready: the consumer joined its group and resolved its (latest) offsets. */
export async function waitReady(gw: RunningGateway, timeoutMs = 30_000): Promise<void> {
  await waitFor(async () => (await http(`${gw.apiUrl}/ready`)).status === 200, timeoutMs, `/ready of ${gw.url}\n${gw.output()}`);
}

export async function stats(gw: RunningGateway): Promise<Record<string, number | string>> {
  return JSON.parse((await http(`${gw.apiUrl}/v3/stats`)).body) as Record<string, number | string>;
}

export type Kind = 'sse' | 'ws' | 'longpolling';

export interface AnySubscriber {
  kind: Kind;
  /** The next event matching `pred` (others are skipped). */
  next(pred: (e: ReceivedEvent) => boolean, timeoutMs?: number): Promise<ReceivedEvent>;
  /** Every event received so far (long polling: by the polls made so far). */
  received(): ReceivedEvent[];
  /** Waits until events with all these CloudEvent ids arrived, in any order (polling if needed); returns them in `ids` order. */
  waitIds(ids: string[], timeoutMs?: number): Promise<ReceivedEvent[]>;
  close(): void;
}

/** Connects a subscriber of `kind` with `subscriptions` and waits until they are set. */
export async function subscribe(gw: RunningGateway, kind: Kind, subscriptions: unknown[]): Promise<AnySubscriber> {
  const query = { subscriptions: JSON.stringify(subscriptions) };
  if (kind === 'longpolling') {
    const lp = new LongPollClient(gw.url);
    const created = await lp.get(query);
    if (created.status !== 200) throw new Error(`long-poll create answered ${created.status}: ${created.body}`);
    await lp.poll((e) => e.event === 'rig.subscriptions_set');
    return {
      kind,
      next: (pred, ms = 15_000) => lp.poll(pred, ms),
      received: () => lp.events,
      waitIds: async (ids, ms = 15_000) => {
        const deadline = Date.now() + ms;
        while (!ids.every((id) => lp.events.some((e) => e.data.id === id))) {
          if (Date.now() > deadline) throw new Error(`long polling: not all of ${ids} within ${ms} ms`);
          await lp.get();
        }
        return ids.map((id) => lp.events.find((e) => e.data.id === id)!);
      },
      close: () => {},
    };
  }
  const c = kind === 'sse' ? await SseClient.connect(gw.url, query) : await WsClient.connect(gw.url, query);
  await c.next((e) => e.event === 'rig.subscriptions_set', 5000);
  return {
    kind,
    next: (pred, ms = 15_000) => c.next(pred, ms),
    received: () => c.events,
    waitIds: async (ids, ms = 15_000) => {
      await waitFor(() => ids.every((id) => c.events.some((e) => e.data.id === id)), ms, `${kind}: events ${ids}`);
      return ids.map((id) => c.events.find((e) => e.data.id === id)!);
    },
    close: () => c.close(),
  };
}

export const greetingSub = (name: string) => ({ eventType: 'greeting', oneOf: [{ name }] });
