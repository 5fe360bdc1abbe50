import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ConnectionRateLimiter, createRateLimitBuffer } from '../../../src/shared/rate-limit.js';

test('allows exactly `limit` connections per 60 s window, then a new window starts', () => {
  const limiter = new ConnectionRateLimiter(createRateLimitBuffer(), 3);
  const t0 = 1_700_000_000_000;
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.tryAcquire(t0)), [true, true, true, false]);
  assert.equal(limiter.tryAcquire(t0 + 59_000), false);
  assert.equal(limiter.tryAcquire(t0 + 60_000), true);
  assert.equal(limiter.tryAcquire(t0 + 60_500), true);
});

test('the limit is exact across threads sharing the buffer', async () => {
  const buffer = createRateLimitBuffer();
  const moduleUrl = new URL('../../../src/shared/rate-limit.js', import.meta.url).href;
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.moduleUrl).then(({ ConnectionRateLimiter }) => {
      const l = new ConnectionRateLimiter(workerData.buffer, 5000);
      let ok = 0;
      for (let i = 0; i < 4000; i++) if (l.tryAcquire()) ok++;
      parentPort.postMessage(ok);
    });`;
  const counts = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(code, { eval: true, workerData: { buffer, moduleUrl } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  assert.equal(counts.reduce((a, b) => a + b, 0), 5000);
});
