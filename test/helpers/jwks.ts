/**
 * A key provider for JWKS tests: RSA and EC key pairs whose public halves a real node:http server
 * on a free loopback port publishes as a JSON Web Key Set, and which the test can change (rotate,
 * answer junk, fail) and count requests of.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export interface TestKey {
  kid: string;
  /** PEM private key, for signing tokens. */
  privateKey: string;
  /** The public key as a JWK with `kid` (and `use`, `alg` when given). */
  jwk: JsonWebKey & { kid: string };
}

export function rsaKey(kid: string, extra: Record<string, unknown> = {}): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, ...extra },
  };
}

export function ecKey(kid: string, namedCurve: 'P-256' | 'P-384' | 'P-521' = 'P-256', extra: Record<string, unknown> = {}): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return {
    kid,
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, ...extra },
  };
}

/** What the server answers: a key set (the JWKs given), or a status and raw body. */
export type JwksAnswer = { keys: unknown[] } | { status: number; body: string };

export interface JwksServer {
  readonly url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** From now on, answer this. */
  serve(answer: JwksAnswer): void;
  /** Requests wait unanswered until the returned function is called (a slow provider). */
  hold(): () => void;
  /** Stops listening and drops open connections (the provider is down). */
  close(): Promise<void>;
}

export async function startJwksServer(t: TestContext | undefined, first: JwksAnswer): Promise<JwksServer> {
  let answer = first;
  let requests = 0;
  let held: Array<() => void> | undefined;
  const server = createServer((_req, res) => {
    requests++;
    if (held) held.push(() => respond(res));
    else respond(res);
  });
  const respond = (res: ServerResponse): void => {
    if ('keys' in answer) {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: answer.keys }));
    } else {
      res.writeHead(answer.status, { 'content-type': 'text/plain' });
      res.end(answer.body);
    }
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.after(close);
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    get requests() {
      return requests;
    },
    serve(next) {
      answer = next;
    },
    hold() {
      const waiting: Array<() => void> = [];
      held = waiting;
      return () => {
        held = undefined;
        for (const go of waiting) go();
      };
    },
    close,
  };
}

/** A key set of these keys' public JWKs. */
export function keySet(...keys: TestKey[]): { keys: unknown[] } {
  return { keys: keys.map((k) => k.jwk) };
}
