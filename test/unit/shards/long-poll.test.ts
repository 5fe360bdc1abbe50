import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LongPollSession, FIRST_EVENT } from '../../../src/shards/transports/long-poll.js';
import { ShardEvent } from '../../../src/shards/shard-event.js';
import { DISCONNECT } from '../../../src/shards/disconnect.js';
import type { OpReply } from '../../../src/shared/channel/messages.js';

const ev = (n: number) => ShardEvent.fromJson('t', `{"n":${n}}`);
const body = (r: OpReply) => JSON.parse(r.body) as { last_event_id: string; events: Array<{ n: number }> };

function session(capacity = 3) {
  const gone: LongPollSession[] = [];
  const s = new LongPollSession(1, 'tok', capacity, [['x-h', '1']], (x) => gone.push(x), 0);
  return { s, gone };
}

test('first_event returns everything buffered; a cursor returns what came after it', () => {
  const { s } = session(10);
  s.deliver(ev(1));
  s.deliver(ev(2));
  let reply: OpReply | undefined;
  s.poll(FIRST_EVENT, (r) => (reply = r), 0, 1000);
  assert.deepEqual(body(reply!), { last_event_id: '2', events: [{ n: 1 }, { n: 2 }] });
  assert.ok(reply!.headers!.some(([k, v]) => k === 'set-cookie' && v === 'last_event_id="2"; path=/; HttpOnly'));
  s.deliver(ev(3));
  s.poll('2', (r) => (reply = r), 0, 1000);
  assert.deepEqual(body(reply!).events, [{ n: 3 }]);
});

test('a poll with nothing new waits and is answered by the next event, or times out empty', () => {
  const { s } = session();
  s.deliver(ev(1));
  const replies: OpReply[] = [];
  s.poll('1', (r) => replies.push(r), 0, 1000);
  assert.equal(replies.length, 0);
  s.deliver(ev(2));
  s.flush();
  assert.deepEqual(body(replies[0]!), { last_event_id: '2', events: [{ n: 2 }] });
  s.poll('2', (r) => replies.push(r), 10, 1000);
  assert.equal(s.sweep(500, 60_000), false);
  assert.equal(replies.length, 1);
  s.sweep(1010, 60_000);
  assert.deepEqual(body(replies[1]!), { last_event_id: '2', events: [] });
});

test('the ring is bounded; a cursor behind it gets everything still buffered', () => {
  const { s } = session(3);
  for (let i = 1; i <= 5; i++) s.deliver(ev(i));
  let reply: OpReply | undefined;
  s.poll('1', (r) => (reply = r), 0, 1000);
  assert.deepEqual(body(reply!), { last_event_id: '5', events: [{ n: 3 }, { n: 4 }, { n: 5 }] });
  s.poll('garbage', (r) => (reply = r), 0, 1000);
  assert.equal(body(reply!).events.length, 3);
  s.poll('999', (r) => (reply = r), 0, 1000);
  assert.equal(body(reply!).events.length, 3);
});

test('idle sessions are reported by the sweep; close answers a waiting poll', () => {
  const { s, gone } = session();
  s.deliver(ev(1));
  assert.equal(s.sweep(100, 50), true);
  const replies: OpReply[] = [];
  s.poll('1', (r) => replies.push(r), 200, 10_000);
  assert.equal(s.sweep(300, 50), false, 'a waiting poll keeps the session alive');
  s.close(DISCONNECT.shutdown);
  assert.equal(replies.length, 1);
  assert.equal(gone.length, 1);
});

test('a second poll replaces a waiting one, which is answered at once', () => {
  const { s } = session();
  s.deliver(ev(1));
  const first: OpReply[] = [];
  const second: OpReply[] = [];
  s.poll('1', (r) => first.push(r), 0, 1000);
  s.poll('1', (r) => second.push(r), 0, 1000);
  assert.equal(first.length, 1);
  assert.deepEqual(body(first[0]!).events, []);
  assert.equal(second.length, 0);
});
