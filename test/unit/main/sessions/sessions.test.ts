import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlacklistStore } from '../../../../src/main/sessions/blacklist-store.js';
import { SessionCounts } from '../../../../src/main/sessions/session-counts.js';
import type { BlacklistEntry } from '../../../../src/shared/channel/messages.js';

test('a blacklisting kills once, however often its record is applied; a new blacklisting kills again', () => {
  let now = 1_000_000;
  const announced: Array<[BlacklistEntry[], boolean]> = [];
  const store = new BlacklistStore((entries, kill) => announced.push([entries, kill]), () => now);
  const rec = store.add('s', 10);
  assert.deepEqual(announced, [[[['s', now + 10_000]], true]]);
  store.apply(rec); // this node's own record coming back from the topic
  assert.equal(announced[1]![1], false);
  store.apply({ sessionId: 's', expiresAt: now + 5_000, uuid: 'other-node' });
  assert.equal(announced[2]![1], true, 'another blacklisting of the same session kills again');
  assert.deepEqual(announced[2]![0], [['s', now + 10_000]], 'the later expiry wins');
  assert.equal(store.has('s'), true);
  now += 10_000;
  assert.equal(store.has('s'), false);
  store.apply({ sessionId: 'old', expiresAt: now - 1, uuid: 'u' });
  assert.equal(announced.length, 3, 'an expired record neither kills nor is announced');
  store.sweep();
  assert.equal(store.size, 0);
});

test('session counts span shards, refuse at the limit, and drop a dead shard\'s connections', () => {
  const counts = new SessionCounts(2, 3);
  assert.equal(counts.admit(0, ['a']), true);
  assert.equal(counts.admit(2, ['a', 'b']), true);
  assert.equal(counts.admit(1, ['a']), false);
  assert.equal(counts.admit(1, ['b', 'a']), false, 'all or nothing');
  assert.equal(counts.total('b'), 1);
  counts.leave(0, ['a']);
  assert.equal(counts.admit(1, ['a']), true);
  counts.join(1, ['c']);
  counts.shardGone(1);
  assert.equal(counts.total('a'), 1);
  assert.equal(counts.total('c'), 0);
  counts.leave(2, ['a', 'b']);
  counts.leave(2, ['a']); // more leaves than joins never go negative
  assert.equal(counts.size, 0);
});
