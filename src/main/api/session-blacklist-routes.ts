/**
 * The session blacklist on the internal API (RIG spec 3.4), v3 and the identical v2:
 *   POST /v3/session-blacklist {"sessionId": "...", "validityInSeconds": n}
 *     -> 201 `{}` with `location: /v3/session-blacklist/<id>`: the session's connections on every
 *        node are killed and its tokens refused until the entry expires (main/sessions/);
 *     -> 400 with RIG's texts for a missing or invalid field.
 *   GET /v3/session-blacklist/:sessionId -> 200 `{}` while blacklisted, 404 `Not found.` otherwise.
 * Beyond RIG: a body that is not a JSON object is a 400 (RIG crashed), and absurd values (a session
 * id over 4096 characters, a validity over 100 years) are refused instead of stored.
 */
import { isUtf8 } from 'node:buffer';
import { err } from '../../shared/errors.js';
import { send, withRequestBody, writeResponse } from '../../shared/http/uws-http.js';
import type { HttpRequest, HttpResponse, TemplatedApp } from '../../shared/uws.js';
import type { BlacklistRecord, BlacklistStore } from '../sessions/blacklist-store.js';

const MAX_SESSION_ID_LENGTH = 4096;
const MAX_VALIDITY_SECONDS = 3_153_600_000;
const JSON_TYPE: [string, string] = ['content-type', 'application/json; charset=utf-8'];
const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

export interface BlacklistRequest {
  sessionId: string;
  validityInSeconds: number;
}

/** Validates a POST body with RIG's error texts; throws the GatewayError to answer. */
export function parseBlacklistRequest(body: unknown): BlacklistRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw err.blacklistInvalid('Expected a JSON object body.');
  const b = body as Record<string, unknown>;
  const sessionId = b['sessionId'];
  if (sessionId === undefined || sessionId === null) throw err.blacklistInvalid('Missing value for "sessionId"');
  if (typeof sessionId !== 'string' || sessionId === '') throw err.blacklistInvalid(`Expected non-empty string, got ${JSON.stringify(sessionId)}`);
  if (sessionId.length > MAX_SESSION_ID_LENGTH) throw err.blacklistInvalid(`sessionId is longer than ${MAX_SESSION_ID_LENGTH} characters`);
  const raw = b['validityInSeconds'];
  if (raw === undefined || raw === null) throw err.blacklistInvalid('Missing value for "validityInSeconds"');
  let validity: number;
  if (typeof raw === 'string') {
    if (!NUMERIC.test(raw)) throw err.blacklistInvalid(`Expected a number, got ${JSON.stringify(raw)}`);
    validity = Number(raw);
  } else if (typeof raw === 'number') {
    validity = raw;
  } else {
    throw err.blacklistInvalid(`Expected a positive number, got ${JSON.stringify(raw)}`);
  }
  if (!(validity > 0) || !Number.isFinite(validity)) throw err.blacklistInvalid(`Expected a positive number, got ${String(validity)}`);
  if (validity > MAX_VALIDITY_SECONDS) throw err.blacklistInvalid(`validityInSeconds is larger than ${MAX_VALIDITY_SECONDS} (100 years)`);
  return { sessionId, validityInSeconds: validity };
}

function decodeJsonObject(body: Buffer): unknown {
  if (!isUtf8(body)) throw err.blacklistInvalid('Expected a JSON object body.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw err.blacklistInvalid('Expected a JSON object body.');
  }
}

export function registerSessionBlacklistRoutes(
  app: TemplatedApp,
  deps: {
    store: BlacklistStore;
    /** Shares a blacklisting made here with the other nodes (Kafka); failures are logged there. */
    replicate?: (record: BlacklistRecord) => void;
    maxRequestBodyBytes: number;
    maxHeaderValueBytes: number;
  },
): void {
  for (const version of ['v3', 'v2']) {
    app.post(`/${version}/session-blacklist`, (res: HttpResponse, req: HttpRequest) =>
      withRequestBody(res, req, deps, (t, body) => {
        const request = parseBlacklistRequest(decodeJsonObject(body));
        const record = deps.store.add(request.sessionId, request.validityInSeconds);
        deps.replicate?.(record);
        send(t, 201, '{}', [
          JSON_TYPE,
          ['location', `/${version}/session-blacklist/${encodeURIComponent(request.sessionId)}`],
          ['access-control-allow-origin', '*'],
        ]);
      }),
    );
    app.get(`/${version}/session-blacklist/:sessionId`, (res: HttpResponse, req: HttpRequest) => {
      let id: string | undefined;
      try {
        id = decodeURIComponent(req.getParameter(0) ?? '');
      } catch {
        id = undefined;
      }
      if (id !== undefined && id !== '' && deps.store.has(id)) {
        writeResponse(res, 200, '{}', [JSON_TYPE, ['access-control-allow-origin', '*']]);
        return;
      }
      const e = err.blacklistNotFound();
      writeResponse(res, e.status, e.message);
    });
  }
}
