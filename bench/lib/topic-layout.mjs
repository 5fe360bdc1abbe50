/**
 * The subscription layout and event keys of the topic-spread scenario (S4), shared by its
 * orchestrator (bench/topics.mjs) and its load clients (bench/clients/topic-client.mjs), so both
 * derive the same topics from the same connection index without shipping them over IPC.
 *
 * Connection i of n subscribes to its personal topic `u.<i>` and to 1–4 groups (1 + i mod 4, so
 * 2–5 topics, 3.5 on average). Groups have at most 10 members: level k partitions the connections
 * into runs of 10 after a different permutation (i * a_k mod n), so the groups of one connection
 * have different members; level 0 holds everyone, level k only the connections with more than k
 * groups. Topics are names that every target can carry: a Centrifuge channel as is, a gateway
 * constraint `{"user": "<i>"}` or `{"group": "g<k>.<j>"}` on the extracted fields `user` and `group`.
 *
 * Events pick their topic from a Zipf distribution (P(rank r) ∝ 1 / r^s) over every topic that
 * has a subscriber, ranks assigned by a seeded shuffle: a few hot topics (personal or group) take
 * most events, the long tail gets a few each. The same seed gives the same sequence on every run
 * and every target.
 */

export const GROUP_SIZE = 10;
const MAX_GROUPS = 4;
const MULTIPLIERS = [1, 7919, 104729, 1299709]; // primes: coprime with n unless n is a multiple

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The multiplier of group level k for n connections (a permutation of 0..n-1). */
function multiplier(k, n) {
  let a = MULTIPLIERS[k] % n || 1;
  while (gcd(a, n) !== 1) a++;
  return a;
}

/** Topics of connection i of n: `u.<i>` first, then its groups `g<k>.<j>`. */
export function topicsOf(i, n) {
  const out = [`u.${i}`];
  const groups = 1 + (i % MAX_GROUPS);
  for (let k = 0; k < groups; k++) out.push(`g${k}.${Math.floor(((i * multiplier(k, n)) % n) / GROUP_SIZE)}`);
  return out;
}

/** What the event of a topic carries for the gateway's extractors: `user` or `group`. */
export function constraintOf(topic) {
  return topic.startsWith('u.') ? { user: topic.slice(2) } : { group: topic };
}

/** The gateway's (and the plain Node baseline's) subscription list of connection i. */
export function gatewaySubscriptions(i, n) {
  return [{ eventType: 'bench', oneOf: topicsOf(i, n).map(constraintOf) }];
}

/** Extractor configuration of the gateway: `user` from /data/user, `group` from /data/group. */
export const EXTRACTORS = {
  bench: {
    user: { stable_field_index: 0, event: { json_pointer: '/data/user' } },
    group: { stable_field_index: 1, event: { json_pointer: '/data/group' } },
  },
};

/** The `"user":"…",` / `"group":"…",` members an event of `topic` puts first into its data. */
export function dataFieldsOf(topic) {
  return topic.startsWith('u.') ? `"user":"${topic.slice(2)}",` : `"group":"${topic}",`;
}

/** Every topic with its subscriber count: {names: string[], members: Int32Array}. */
export function topicTable(n) {
  const index = new Map();
  const members = [];
  for (let i = 0; i < n; i++) {
    for (const t of topicsOf(i, n)) {
      let id = index.get(t);
      if (id === undefined) {
        id = members.length;
        index.set(t, id);
        members.push(0);
      }
      members[id]++;
    }
  }
  return { names: [...index.keys()], index, members: Int32Array.from(members) };
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A Zipf sampler over `count` topic ids with exponent `s`: ranks are a seeded shuffle of the ids,
 * so the hottest topic is a random one (personal or group), the same for every run of a seed.
 * Returns () => topic id.
 */
export function zipfSampler(count, s, seed) {
  const rand = prng(seed);
  const rankToId = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rankToId[i], rankToId[j]] = [rankToId[j], rankToId[i]];
  }
  const cdf = new Float64Array(count);
  let sum = 0;
  for (let r = 0; r < count; r++) cdf[r] = sum += 1 / (r + 1) ** s;
  for (let r = 0; r < count; r++) cdf[r] /= sum;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = count - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return rankToId[lo];
  };
}
