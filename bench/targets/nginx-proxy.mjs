/**
 * Benchmark target: nginx (Debian package nginx) as a plain reverse proxy, the baseline of the
 * HTTP proxy benchmark: `proxy_pass` to one upstream over a pool of kept-alive HTTP/1.1
 * connections. Config: nginx-proxy.conf.template beside this file (every tuning choice is
 * explained there).
 *
 * start({ port, upstream: 'http://127.0.0.1:<p>', workers }) → { host, port, pids, stop }.
 * Every request to 127.0.0.1:port is passed on with its path and query; when `upstream` has a
 * path (http://host:p/base), requests go to /base/<path>.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectionLimits, ensurePackages, render, startNginx, versions } from './lib/nginx.mjs';

export const name = 'nginx-proxy';
export const kind = 'proxy';
// Not a fan-out target: it serves no subscriptions.
export const transports = [];

const PACKAGES = ['nginx'];
const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), 'nginx-proxy.conf.template');

/** Installs nginx from Debian if missing (idempotent). */
export async function install({ log } = {}) {
  ensurePackages(PACKAGES, { files: ['/usr/sbin/nginx'], log });
  const v = versions(PACKAGES);
  log?.(`nginx-proxy: nginx ${v.binary} (${v.nginx})`);
  return v;
}

function parseUpstream(upstream) {
  let u;
  try {
    u = new URL(upstream);
  } catch {
    throw new Error(`nginx-proxy: upstream must be a URL like http://127.0.0.1:8080, got ${upstream}`);
  }
  if (u.protocol !== 'http:') throw new Error(`nginx-proxy: only http:// upstreams are supported, got ${upstream}`);
  if (u.search || u.hash || u.username) throw new Error(`nginx-proxy: upstream must be scheme://host:port[/path], got ${upstream}`);
  // proxy_pass with a URI replaces the matched location prefix ("/") with it: /x -> /base/x.
  const path = u.pathname === '/' ? '' : u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path };
}

/** Starts nginx proxying 127.0.0.1:`port` to `upstream`; resolves once the port accepts connections. */
export async function start({ port, upstream, workers = 2, log } = {}) {
  if (!port || !upstream) throw new Error('nginx-proxy: start() needs port and upstream');
  const up = parseUpstream(upstream);
  const { nofile, connections } = connectionLimits();
  const template = readFileSync(TEMPLATE, 'utf8');
  const server = await startNginx({
    name,
    workers,
    ports: [port],
    log,
    confText: (prefix) =>
      render(template, {
        PREFIX: prefix,
        WORKERS: workers,
        NOFILE: nofile,
        CONNECTIONS: connections,
        PORT: port,
        UPSTREAM: upstream,
        UPSTREAM_HOST: up.host.includes(':') ? `[${up.host}]` : up.host,
        UPSTREAM_PORT: up.port,
        UPSTREAM_PATH: up.path,
      }),
  });
  return {
    host: '127.0.0.1',
    port,
    // nginx master + workers; the workers do all the work, the master only supervises.
    pids: server.pids,
    settings: { workers, workerRlimitNofile: nofile, workerConnections: connections, upstreamKeepalive: 256 },
    errorLog: server.errorLog,
    alive: server.alive,
    stop: server.stop,
  };
}
