// The shard's subscription table: exact RIG matching (spec 5.4), at-most-once delivery, interest
// announcements, and the routing invariant checked against a brute-force reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExtractorConfig } from '../../../src/shared/extractors/config.js';
import { extractFieldValues } from '../../../src/shared/extractors/extract.js';
import type { ExtractorConfig } from '../../../src/shared/extractors/types.js';
import {
  compileRow,
  eventInterestKeys,
  rowInterestKey,
  wildcardKey,
  fieldKey,
} from '../../../src/shared/subscriptions/interest.js';
import type { Subscription } from '../../../src/shared/subscriptions/types.js';
import { SubscriptionIndex } from '../../../src/shards/subscription-index.js';

interface Conn {
  id: string;
}

/** An index plus a recorder of its interest announcements. */
function setup(cfg: ExtractorConfig) {
  const log: string[] = [];
  const live = new Set<string>();
  const index = new SubscriptionIndex<Conn>(cfg, (key, added) => {
    log.push(`${added ? '+' : '-'}${key}`);
    if (added) {
      assert.ok(!live.has(key), `added twice: ${key}`);
      live.add(key);
    } else {
      assert.ok(live.delete(key), `removed while absent: ${key}`);
    }
  });
  const matchIds = (type: string, event: Record<string, unknown>): string[] => {
    const ids: string[] = [];
    const n = index.match(type, extractFieldValues(cfg, type, event), (c) => ids.push(c.id));
    assert.equal(n, ids.length);
    return ids.sort();
  };
  return { index, log, live, matchIds };
}

const personCfg = parseExtractorConfig({
  person: {
    name: { stable_field_index: 1, event: { json_pointer: '/data/name' } },
    age: { stable_field_index: 2, event: { json_pointer: '/data/age' } },
  },
});

const person = (data: unknown, extra: Record<string, unknown> = {}) => ({ type: 'person', data, ...extra });
const sub = (eventType: string, ...oneOf: Record<string, unknown>[]): Subscription => ({ eventType, oneOf });

test('spec 5.4 truth table', () => {
  const { index, matchIds } = setup(personCfg);
  index.set({ id: 'A' }, [sub('person', { name: 'joe' })]);
  index.set({ id: 'B' }, [sub('person', { name: 'joe', age: 30 })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: 20 })), ['A']);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: 30 })), ['A', 'B']);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: null })), ['A']);
  assert.deepEqual(matchIds('person', person({ name: 'joe' })), ['A']);
  assert.deepEqual(matchIds('person', person({ name: 'bob', age: 30 })), []);
});

test('event types are exact, case-sensitive strings', () => {
  const { index, matchIds } = setup(personCfg);
  index.set({ id: 'A' }, [sub('person')]);
  assert.deepEqual(matchIds('Person', person({})), []);
  assert.deepEqual(matchIds('person.x', person({})), []);
  assert.deepEqual(matchIds('person', person({})), ['A']);
});

test('empty oneOf and null constraint values are wildcards', () => {
  const { index, matchIds } = setup(personCfg);
  index.set({ id: 'all' }, [sub('person')]);
  index.set({ id: 'nullName' }, [sub('person', { name: null })]);
  index.set({ id: 'nullNameAge30' }, [sub('person', { name: null, age: 30 })]);
  assert.deepEqual(matchIds('person', person({})), ['all', 'nullName']);
  assert.deepEqual(matchIds('person', person({ name: 'x', age: 30 })), ['all', 'nullName', 'nullNameAge30']);
});

test('constraint keys that are not configured fields are ignored', () => {
  const { index, matchIds } = setup(personCfg);
  index.set({ id: 'A' }, [sub('person', { name: 'joe', shoe: 42 })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe', shoe: 1 })), ['A']);
  // Without any extractor config a constrained subscription gets every event of its type.
  const bare = setup(new Map());
  bare.index.set({ id: 'A' }, [sub('greeting', { name: 'joe' })]);
  assert.deepEqual(bare.matchIds('greeting', { data: { name: 'bob' } }), ['A']);
  assert.deepEqual(bare.matchIds('greeting', {}), ['A']);
  assert.deepEqual(bare.live, new Set([wildcardKey('greeting')]));
});

test('equality: 1 == 1.0, "1" != 1, booleans exact', () => {
  const cfg = parseExtractorConfig({ t: { v: { stable_field_index: 0, event: { json_pointer: '/data/v' } } } });
  const { index, matchIds } = setup(cfg);
  index.set({ id: 'int' }, [sub('t', JSON.parse('{"v": 1}') as Record<string, unknown>)]);
  index.set({ id: 'float' }, [sub('t', JSON.parse('{"v": 1.0}') as Record<string, unknown>)]);
  index.set({ id: 'str' }, [sub('t', { v: '1' })]);
  index.set({ id: 'true' }, [sub('t', { v: true })]);
  index.set({ id: 'strTrue' }, [sub('t', { v: 'true' })]);
  index.set({ id: 'zero' }, [sub('t', { v: 0 })]);
  const ev = (json: string) => JSON.parse(`{"data": {"v": ${json}}}`) as Record<string, unknown>;
  assert.deepEqual(matchIds('t', ev('1')), ['float', 'int']);
  assert.deepEqual(matchIds('t', ev('1.0')), ['float', 'int']);
  assert.deepEqual(matchIds('t', ev('"1"')), ['str']);
  assert.deepEqual(matchIds('t', ev('true')), ['true']);
  assert.deepEqual(matchIds('t', ev('"true"')), ['strTrue']);
  assert.deepEqual(matchIds('t', ev('-0.0')), ['zero']);
  assert.deepEqual(matchIds('t', ev('false')), []);
});

test('object, array and pointer-into-array values are "not found"', () => {
  const cfg = parseExtractorConfig({
    t: {
      v: { stable_field_index: 0, event: { json_pointer: '/data/v' } },
      first: { stable_field_index: 1, event: { json_pointer: '/data/items/0' } },
    },
  });
  const { index, matchIds, live } = setup(cfg);
  index.set({ id: 'wild' }, [sub('t', { v: null })]);
  index.set({ id: 'objectConstraint' }, [sub('t', { v: { a: 1 } })]);
  index.set({ id: 'arrayConstraint' }, [sub('t', { v: [1] })]);
  index.set({ id: 'first' }, [sub('t', { first: 'a' })]);
  assert.deepEqual(matchIds('t', { data: { v: { a: 1 } } }), ['wild']);
  assert.deepEqual(matchIds('t', { data: { v: [1] } }), ['wild']);
  assert.deepEqual(matchIds('t', { data: { items: ['a'] } }), ['wild']);
  // Rows that can never match register no interest at all.
  assert.deepEqual(live, new Set([wildcardKey('t'), fieldKey('t', 1, 'a')]));
});

test('contenttype with an object data still matches on /data fields (RIG #391 fixed)', () => {
  const { index, matchIds } = setup(personCfg);
  index.set({ id: 'A' }, [sub('person', { name: 'joe' })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe' }, { contenttype: 'application/json' })), ['A']);
});

test('OR across oneOf, AND within one constraint object', () => {
  const { index, matchIds } = setup(personCfg);
  index.set({ id: 'A' }, [sub('person', { name: 'joe', age: 30 }, { name: 'bob' })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: 30 })), ['A']);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: 31 })), []);
  assert.deepEqual(matchIds('person', person({ name: 'bob', age: 1 })), ['A']);
  assert.deepEqual(matchIds('person', person({ name: 'ann', age: 30 })), []);
});

test('a connection is visited at most once per event', () => {
  const { index, matchIds } = setup(personCfg);
  const a = { id: 'A' };
  index.set(a, [
    sub('person'),
    sub('person', { name: 'joe' }, { age: 30 }, { name: 'joe', age: 30 }),
    sub('person', { age: 30 }),
    sub('other'),
  ]);
  index.set({ id: 'B' }, [sub('person', { age: 30 }), sub('person', { name: 'joe' })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: 30 })), ['A', 'B']);
  assert.deepEqual(matchIds('person', person({ name: 'joe', age: 30 })), ['A', 'B']);
  assert.deepEqual(matchIds('other', {}), ['A']);
  assert.deepEqual(matchIds('nobody', {}), []);
});

test('interest is announced on the first row of a key and withdrawn with its last', () => {
  const { index, log } = setup(personCfg);
  const a = { id: 'A' };
  const b = { id: 'B' };
  const joe = fieldKey('person', 0, 'joe');
  const age30 = fieldKey('person', 1, 30);
  const wild = wildcardKey('person');

  index.set(a, [sub('person', { name: 'joe' })]);
  assert.deepEqual(log.splice(0), [`+${joe}`]);
  index.set(b, [sub('person', { name: 'joe', age: 1 })]); // same first constrained field/value
  assert.deepEqual(log.splice(0), []);
  assert.equal(index.keyCount, 1);
  assert.equal(index.rowCount, 2);
  assert.equal(index.connectionCount, 2);

  // Replacing A's set: the shared key never drops; new keys are announced before old ones go.
  index.set(a, [sub('person', { name: 'joe', age: 2 }), sub('person', { age: 30 }), sub('person')]);
  assert.deepEqual(log.splice(0), [`+${age30}`, `+${wild}`]);
  index.set(a, [sub('person', { name: 'joe' })]);
  assert.deepEqual(log.splice(0), [`-${age30}`, `-${wild}`]);

  index.remove(b);
  assert.deepEqual(log.splice(0), []);
  index.remove(a);
  assert.deepEqual(log.splice(0), [`-${joe}`]);
  index.remove(a);
  assert.deepEqual(log.splice(0), []);
  assert.equal(index.keyCount, 0);
  assert.equal(index.rowCount, 0);
  assert.equal(index.connectionCount, 0);

  // Re-setting identical subscriptions announces nothing; an empty set withdraws everything.
  index.set(a, [sub('person', { age: 30 })]);
  log.splice(0);
  index.set(a, [sub('person', { age: 30 })]);
  assert.deepEqual(log.splice(0), []);
  index.set(a, []);
  assert.deepEqual(log.splice(0), [`-${age30}`]);
  assert.equal(index.connectionCount, 0);
});

test('identical rows of one connection are stored once', () => {
  const { index } = setup(personCfg);
  index.set({ id: 'A' }, [
    sub('person', { name: 'joe' }),
    sub('person', { name: 'joe', shoe: 1 }),
    sub('person', { name: 'joe' }, { name: 'joe', age: null }),
  ]);
  assert.equal(index.rowCount, 1);
});

test('set() takes effect immediately; removed subscriptions stop matching', () => {
  const { index, matchIds } = setup(personCfg);
  const a = { id: 'A' };
  index.set(a, [sub('person', { name: 'joe' })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe' })), ['A']);
  index.set(a, [sub('person', { name: 'bob' })]);
  assert.deepEqual(matchIds('person', person({ name: 'joe' })), []);
  assert.deepEqual(matchIds('person', person({ name: 'bob' })), ['A']);
  index.remove(a);
  assert.deepEqual(matchIds('person', person({ name: 'bob' })), []);
});

test('a visitor may remove or re-subscribe connections during match', () => {
  const { index, live } = setup(personCfg);
  const conns = Array.from({ length: 6 }, (_, i) => ({ id: `c${i}` }));
  for (const c of conns) index.set(c, [sub('person'), sub('person', { name: 'joe' })]);
  const visited: string[] = [];
  const n = index.match('person', ['joe', null], (c) => {
    visited.push(c.id);
    // The first visited connection closes two others and changes its own subscriptions.
    if (visited.length === 1) {
      for (const other of conns) if (other !== c && visited.length === 1 && other.id !== 'c5') index.remove(other);
      index.set(c, [sub('person', { name: 'bob' })]);
      index.remove(conns[5]!);
      index.set(conns[5]!, [sub('person')]); // re-added after its removal: stays
    }
  });
  assert.equal(n, visited.length);
  assert.equal(new Set(visited).size, visited.length);
  assert.equal(visited.length, 1);
  assert.equal(index.connectionCount, 2);
  assert.deepEqual(live, new Set([wildcardKey('person'), fieldKey('person', 0, 'bob')]));
  const after: string[] = [];
  index.match('person', ['bob', null], (c) => after.push(c.id));
  assert.deepEqual(after.sort(), [visited[0]!, 'c5'].sort());
});

// --- property check against a brute-force reading of spec 5.4 --------------------------------

/** Small deterministic PRNG (mulberry32), so failures are reproducible from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ABSENT = Symbol('absent');
const VALUE_POOL: unknown[] = [ABSENT, null, 'a', 'b', '1', 1, 1.0, 2, 0, true, false, 'true', { o: 1 }, [1]];
const TYPES = ['t1', 't2', 't3'];
const FIELD_NAMES = ['f0', 'f1', 'f2', 'x'];

/** Erlang `==` on decoded JSON as RIG's match spec applies it to a row value and an event value. */
function erlangEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function referenceMatches(cfg: ExtractorConfig, s: Subscription, type: string, event: Record<string, unknown>) {
  if (s.eventType !== type) return false;
  const fields = cfg.get(type) ?? [];
  const clauses = s.oneOf.length === 0 ? [{}] : s.oneOf;
  return clauses.some((c) =>
    fields.every((f) => {
      const want = Object.prototype.hasOwnProperty.call(c, f.name) ? c[f.name] : null;
      if (want === null) return true;
      const data = event['data'] as Record<string, unknown>;
      const got = Object.prototype.hasOwnProperty.call(data, f.name) ? data[f.name] : null;
      if (got === null || typeof got === 'object') return false;
      return erlangEqual(want, got);
    }),
  );
}

test('random cases agree with the reference; routing keys cover every match', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const randomObject = (keys: readonly string[], p: number) => {
      const o: Record<string, unknown> = {};
      for (const k of keys) {
        if (rnd() >= p) continue;
        const v = pick(VALUE_POOL);
        if (v !== ABSENT) o[k] = v;
      }
      return o;
    };

    // Random extractor config: each type gets 0-3 of f0..f2 (x is never configured).
    const raw: Record<string, unknown> = {};
    for (const t of TYPES) {
      const fields: Record<string, unknown> = {};
      let idx = 0;
      for (const f of ['f0', 'f1', 'f2']) {
        if (rnd() < 0.6) fields[f] = { stable_field_index: idx++ * 3 + Math.floor(rnd() * 3), event: { json_pointer: `/data/${f}` } };
      }
      raw[t] = fields;
    }
    const cfg = parseExtractorConfig(raw);

    const { index, live } = setup(cfg);
    const conns = Array.from({ length: 5 }, (_, i) => ({ id: `c${i}` }));
    const subsOf = new Map<Conn, Subscription[]>();
    const rounds = 1 + Math.floor(rnd() * 3);
    for (let r = 0; r < rounds; r++) {
      for (const c of conns) {
        if (rnd() < 0.2) {
          index.remove(c);
          subsOf.delete(c);
          continue;
        }
        const subs: Subscription[] = [];
        const nSubs = Math.floor(rnd() * 3);
        for (let i = 0; i < nSubs; i++) {
          const nClauses = Math.floor(rnd() * 3);
          subs.push(sub(pick(TYPES), ...Array.from({ length: nClauses }, () => randomObject(FIELD_NAMES, 0.5))));
        }
        index.set(c, subs);
        subsOf.set(c, subs);
      }
    }

    // Announced interest = exactly the keys of the live rows that can ever match.
    const expectedKeys = new Set<string>();
    for (const subs of subsOf.values()) {
      for (const s of subs) {
        for (const c of s.oneOf.length === 0 ? [{}] : s.oneOf) {
          const row = compileRow(cfg.get(s.eventType), c);
          if (row !== null) expectedKeys.add(rowInterestKey(s.eventType, row));
        }
      }
    }
    assert.deepEqual(live, expectedKeys, `seed ${seed}`);

    for (let e = 0; e < 20; e++) {
      const type = pick(TYPES);
      const event = { type, data: randomObject(FIELD_NAMES, 0.7) };
      const values = extractFieldValues(cfg, type, event);
      const got: string[] = [];
      index.match(type, values, (c) => got.push(c.id));
      const expected = conns
        .filter((c) => (subsOf.get(c) ?? []).some((s) => referenceMatches(cfg, s, type, event)))
        .map((c) => c.id);
      assert.deepEqual(got.sort(), expected, `seed ${seed}, event ${JSON.stringify(event)}`);

      // Every key a matching row is registered under is routed for this event.
      const routed = new Set(eventInterestKeys(type, values));
      for (const subs of subsOf.values()) {
        for (const s of subs) {
          for (const c of s.oneOf.length === 0 ? [{}] : s.oneOf) {
            if (!referenceMatches(cfg, { eventType: s.eventType, oneOf: [c] }, type, event)) continue;
            const row = compileRow(cfg.get(s.eventType), c);
            assert.ok(row !== null, `seed ${seed}: a matching row must be indexable`);
            assert.ok(routed.has(rowInterestKey(s.eventType, row)), `seed ${seed}: key not routed`);
          }
        }
      }
    }
  }
});
