/**
 * The single place that loads uWebSockets.js. The package's loader silently falls back to a slow
 * pure-JS server when the native binary cannot load; a gateway measured or run on that fallback
 * would be an order of magnitude slower without anyone noticing, so we refuse to start on it
 * unless UWS_ALLOW_FALLBACK is set. Also declares the parts of the 20.30 API its bundled typings
 * omit (`app.close()`, boolean `closeOnBackpressureLimit`).
 */
import { createRequire } from 'node:module';
import type * as UWS from 'uWebSockets.js';

export type HttpResponse = UWS.HttpResponse;
export type HttpRequest = UWS.HttpRequest;
export type WebSocket<U> = UWS.WebSocket<U>;
export type UsListenSocket = UWS.us_listen_socket;
export type UsSocketContext = UWS.us_socket_context_t;

export interface WebSocketBehavior<U> extends Omit<UWS.WebSocketBehavior<U>, 'closeOnBackpressureLimit'> {
  closeOnBackpressureLimit?: boolean;
}

export interface TemplatedApp extends Omit<UWS.TemplatedApp, 'ws'> {
  ws<U>(pattern: string, behavior: WebSocketBehavior<U>): TemplatedApp;
  /** Closes the listen sockets and every open socket of the app (present in the 20.30 binary). */
  close(): void;
}

export interface UwsModule {
  App(options?: UWS.AppOptions): TemplatedApp;
  /** Throws "App construction failed" when the certificate or key cannot be used. */
  SSLApp(options: UWS.AppOptions): TemplatedApp;
  us_listen_socket_close(socket: UsListenSocket): void;
  us_socket_local_port(socket: UsListenSocket): number;
  DISABLED: number;
}

let loaded: UwsModule | undefined;

/** Loads uWS once per thread; throws when only the pure-JS fallback is available and it is not allowed. */
export function loadUws(allowFallback: boolean): UwsModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const mod = require('uWebSockets.js') as UwsModule & { H3App?: unknown };
  // Only the native binary exports H3App; the fallback exports App and a few helpers.
  if (typeof mod.H3App !== 'function' && !allowFallback) {
    throw new Error(
      'uWebSockets.js could not load its native binary and would run on its slow pure-JS fallback. ' +
        'Use Node.js 20 on glibc Linux x64, or set UWS_ALLOW_FALLBACK=true to run degraded anyway.',
    );
  }
  loaded = mod;
  return mod;
}

/**
 * The options of an HTTPS app from HTTPS_CERTFILE / HTTPS_KEYFILE / HTTPS_KEYFILE_PASS, which the
 * configuration loader has already read and checked (shared/config/https-files.ts). uWS reads
 * the files itself, relative to the working directory.
 */
export function httpsAppOptions(cfg: { httpsCertFile: string; httpsKeyFile: string; httpsKeyFilePass: string }): UWS.AppOptions {
  return {
    cert_file_name: cfg.httpsCertFile,
    key_file_name: cfg.httpsKeyFile,
    ...(cfg.httpsKeyFilePass !== '' && { passphrase: cfg.httpsKeyFilePass }),
  };
}
