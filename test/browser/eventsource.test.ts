/**
 * The README's browser snippet, run in real headless Chromium: a page served from another origin
 * opens an EventSource to the gateway, receives the handshake, changes its subscriptions with the
 * token (a cross-origin PUT with a preflight) and receives a published event. This checks the
 * wire format and the CORS answers as a browser enforces them, which no Node client does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { startGateway } from '../helpers/gateway.js';
import { greeting, postEvent } from '../helpers/http.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/ensure-chromium.sh`);

const PAGE = `<!doctype html><html><body><pre id="log"></pre><script>
  window.received = [];
  const log = (x) => { window.received.push(x); document.getElementById('log').textContent += x + '\\n'; };
  window.start = (gateway) => {
    const subs = encodeURIComponent(JSON.stringify([{ eventType: 'nothing-yet' }]));
    const source = new EventSource(gateway + '/_rig/v1/connection/sse?subscriptions=' + subs);
    source.addEventListener('rig.connection.create', async (e) => {
      const token = JSON.parse(e.data).data.connection_token;
      log('token');
      const res = await fetch(gateway + '/_rig/v1/connection/sse/' + token + '/subscriptions', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subscriptions: [{ eventType: 'greeting' }] }),
      }).catch((err) => ({ status: 'fetch failed: ' + err }));
      log('put ' + res.status);
    });
    source.addEventListener('rig.subscriptions_set', (e) => log('subscriptions ' + JSON.stringify(JSON.parse(e.data).data)));
    source.addEventListener('greeting', (e) => log('greeting ' + JSON.parse(e.data).data.name));
    source.onerror = () => log('error');
  };
</script></body></html>`;

test('EventSource in Chromium: handshake, cross-origin subscriptions PUT, event delivery', { skip: !available && `no Chromium at ${CHROMIUM}` }, async (t) => {
  const gw = await startGateway(t, {});
  const page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
  await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
  t.after(() => page.close());
  const pageUrl = `http://localhost:${(page.address() as AddressInfo).port}/`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const tab = await browser.newPage();
  await tab.goto(pageUrl);
  // Page on localhost:<page port>, gateway on 127.0.0.1:<gateway port>: a different origin.
  await tab.evaluate((gateway) => (globalThis as unknown as { start(g: string): void }).start(gateway), gw.url);
  const received = () => tab.evaluate(() => (globalThis as unknown as { received: string[] }).received);

  const deadline = Date.now() + 10_000;
  while (!(await received()).includes('subscriptions [{"eventType":"greeting","oneOf":[]}]')) {
    if (Date.now() > deadline) assert.fail(`no subscriptions change in the browser: ${JSON.stringify(await received())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const posted = await postEvent(gw.url, greeting('alice'));
  assert.equal(posted.status, 202);
  while (!(await received()).includes('greeting alice')) {
    if (Date.now() > deadline) assert.fail(`no greeting in the browser: ${JSON.stringify(await received())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = await received();
  // The PUT's answer and the stream's new rig.subscriptions_set race each other; both must arrive.
  assert.ok(log.includes('put 204'), `subscriptions PUT failed in the browser: ${JSON.stringify(log)}`);
  assert.deepEqual(
    log.filter((x) => x !== 'put 204').slice(0, 3),
    ['token', 'subscriptions [{"eventType":"nothing-yet","oneOf":[]}]', 'subscriptions [{"eventType":"greeting","oneOf":[]}]'],
  );
  assert.ok(!log.includes('error'), `EventSource reported an error: ${JSON.stringify(log)}`);
});
