/**
 * Absurd path_regex patterns against the real gateway (2 shards): a pattern that would backtrack
 * exponentially is matched in linear time, so adversarial paths sent to every shard get their
 * answer while other requests keep being served; a pattern that cannot be bounded is refused with
 * a 400 error map and changes nothing. Every request has a timeout, so a stalled shard fails the
 * test instead of hanging it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from '../helpers/gateway.js';
import { freshRequest } from '../helpers/raw-http.js';
import type { FreshAnswer } from '../helpers/raw-http.js';
import { connectionPerShard } from '../helpers/shard-connections.js';
import type { PinnedAnswer } from '../helpers/shard-connections.js';
import { startUpstream } from '../helpers/upstream.js';

const TIMEOUT_MS = 5_000;

function bounded<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

test('exponential patterns do not stall a shard; unboundable ones are refused', { timeout: 90_000 }, async (t) => {
  const up = await startUpstream(t);
  const gw = await startGateway(t);
  const definition = (id: string, endpoints: unknown[]) => ({
    id, name: id, version_data: { default: { endpoints } }, proxy: { target_url: '127.0.0.1', port: up.port },
  });
  const post = (body: unknown) => freshRequest(`${gw.apiUrl}/v3/apis`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), timeoutMs: TIMEOUT_MS,
  });

  const created = await post(definition('redos', [
    { id: 'evil', method: 'GET', path_regex: '/redos/(a+)+$', path_replacement: '/got/\\1' },
    { id: 'quadratic', method: 'GET', path_regex: '/docs/(.+)/tables/(.+)/x', path_replacement: '/t/\\2' },
    { id: 'plain', method: 'GET', path_regex: '/plain/(.+)' },
  ]));
  assert.equal(created.status, 201, created.body);

  const adversarial = `/redos/${'a'.repeat(40)}b`;
  const quadratic = `/docs/${'/tables/'.repeat(2000)}y`;
  const conns = await connectionPerShard(gw);
  try {
    // Adversarial paths on every shard at once, with ordinary requests on fresh connections
    // (spread over the shards by the kernel) while they are in flight.
    const attacks = conns.flatMap((c) => [
      bounded(`shard ${c.shard} adversarial`, c.request(adversarial)),
      bounded(`shard ${c.shard} quadratic`, c.request(quadratic)),
    ]);
    const normal = Array.from({ length: 20 }, (_, i) => freshRequest(`${gw.url}/plain/${i}`, { timeoutMs: TIMEOUT_MS }));
    const [answers, normalAnswers]: [PinnedAnswer[], FreshAnswer[]] = await Promise.all([Promise.all(attacks), Promise.all(normal)]);
    for (const a of answers) assert.equal(a.status, 404, a.body);
    for (const [i, r] of normalAnswers.entries()) {
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body).url, `/plain/${i}`);
    }
    // The patterns still match what they should, on every shard.
    for (const c of conns) {
      const m = await bounded('match', c.request(`/redos/${'a'.repeat(40)}`));
      assert.equal(m.status, 200, m.body);
      assert.equal(JSON.parse(m.body).url, `/got/${'a'.repeat(40)}`);
      const q = await bounded('long quadratic match', c.request(`/docs/${'z/tables/'.repeat(500)}q/x`));
      assert.equal(q.status, 200, q.body);
      assert.equal(JSON.parse(q.body).url, '/t/q');
    }
  } finally {
    await Promise.all(conns.map((c) => c.close()));
  }

  // A pattern that would need the linear-time engine but uses a backreference: 400, nothing stored.
  const refused = await post(definition('refused', [
    { id: 'ok', method: 'GET', path_regex: '/refused/ok' },
    { id: 'backref', method: 'GET', path_regex: '/refused/(a+)+\\1' },
  ]));
  assert.equal(refused.status, 400);
  assert.equal(refused.body, '{"refused/backref":[{"path_regex":"must not use backreferences together with nested or repeated quantifiers (its matching time could not be bounded)"}]}');
  assert.equal((await freshRequest(`${gw.apiUrl}/v3/apis/refused`, { timeoutMs: TIMEOUT_MS })).status, 404);
  assert.equal((await freshRequest(`${gw.url}/refused/ok`, { timeoutMs: TIMEOUT_MS })).status, 404);
  assert.equal((await freshRequest(`${gw.url}/plain/after`, { timeoutMs: TIMEOUT_MS })).status, 200);
  assert.doesNotMatch(gw.output(), /uncaught|ERR_|exception/i);
});
