/**
 * Keep-alive connections to the gateway's public port, one per shard, so a test can send a request
 * to a chosen shard. The kernel picks a shard per TCP connection; which one is learned by creating
 * a long-polling session on the connection: its connection token names the shard that accepted it.
 * `request` checks the shard again afterwards, so an answer is known to come from that shard even
 * if the connection had been replaced in between.
 */
import assert from 'node:assert/strict';
import { Client } from 'undici';
import { createTokenCodec } from '../../src/shared/token/connection-token.js';
import type { RunningGateway } from './gateway.js';

export interface PinnedAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ShardConnection {
  readonly shard: number;
  request(path: string, opts?: { method?: string; headers?: Record<string, string>; body?: string }): Promise<PinnedAnswer>;
  close(): Promise<void>;
}

/** Opens connections until every one of `shards` shards has one; `cookie` is the gateway's NODE_COOKIE. */
export async function connectionPerShard(gw: RunningGateway, shards = 2, cookie = 'test-cookie', maxTries = 60): Promise<ShardConnection[]> {
  const codec = createTokenCodec(cookie);
  const byShard = new Map<number, ShardConnection>();
  for (let i = 0; i < maxTries && byShard.size < shards; i++) {
    const client = new Client(gw.url, { pipelining: 1 });
    const probe = async (): Promise<number> => {
      const r = await client.request({ path: '/_rig/v1/connection/longpolling', method: 'GET' });
      await r.body.text();
      const setCookie = [r.headers['set-cookie'] ?? []].flat();
      const token = setCookie.map((c) => /^connection_token=([^;]+)/.exec(c)?.[1]).find((v) => v !== undefined);
      assert.ok(token, `long-polling session created: ${r.statusCode} ${JSON.stringify(r.headers)}`);
      const payload = codec.decode(token);
      assert.ok(payload, 'the token decodes with the gateway\'s NODE_COOKIE');
      return payload.shard;
    };
    const shard = await probe();
    if (byShard.has(shard)) {
      await client.close();
      continue;
    }
    byShard.set(shard, {
      shard,
      async request(path, opts = {}) {
        const r = await client.request({ path, method: (opts.method ?? 'GET') as 'GET', headers: opts.headers ?? {}, body: opts.body ?? null });
        const body = await r.body.text();
        assert.equal(await probe(), shard, 'the request stayed on its shard');
        return { status: r.statusCode, headers: r.headers, body };
      },
      close: () => client.close(),
    });
  }
  assert.equal(byShard.size, shards, `connections reached ${byShard.size} of ${shards} shards`);
  return [...byShard.values()].sort((a, b) => a.shard - b.shard);
}
