/**
 * HTTPS_CERTFILE / HTTPS_KEYFILE / HTTPS_KEYFILE_PASS, checked when the configuration is loaded.
 *
 * uWS reads the files itself when each shard builds its HTTPS app, and all it says on any problem
 * is "App construction failed", in every shard. So the files are read and parsed here first
 * (node:crypto uses the same OpenSSL), and every problem stops start-up with a message naming the
 * variable to fix.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { GatewayConfig } from './types.js';

type HttpsSettings = Pick<GatewayConfig, 'httpsCertFile' | 'httpsKeyFile' | 'httpsKeyFilePass'>;

/** HTTPS is on when both files are named (a half configuration never loads). */
export function httpsEnabled(cfg: HttpsSettings): boolean {
  return cfg.httpsCertFile !== '' && cfg.httpsKeyFile !== '';
}

/** Start-up problems of the HTTPS settings, each `<VARIABLE>: ... (allowed: ...)`; empty when fine or off. */
export function httpsProblems(cfg: HttpsSettings, cwd: string): string[] {
  const { httpsCertFile: certPath, httpsKeyFile: keyPath, httpsKeyFilePass: pass } = cfg;
  if (certPath === '' && keyPath === '') {
    return pass === ''
      ? []
      : ['HTTPS_KEYFILE_PASS: is set, but HTTPS_CERTFILE and HTTPS_KEYFILE are empty (allowed: all three for HTTPS with an encrypted key, or none)'];
  }
  if (certPath === '') return ['HTTPS_CERTFILE: is empty, but HTTPS_KEYFILE is set (allowed: both set to enable HTTPS, or both empty)'];
  if (keyPath === '') return ['HTTPS_KEYFILE: is empty, but HTTPS_CERTFILE is set (allowed: both set to enable HTTPS, or both empty)'];

  const problems: string[] = [];
  const cert = readCertificate(certPath, cwd, problems);
  const key = readKey(keyPath, pass, cwd, problems);
  if (cert && key && !cert.checkPrivateKey(key)) {
    problems.push('HTTPS_KEYFILE: the key does not belong to the certificate in HTTPS_CERTFILE (allowed: the private key of that certificate)');
  }
  return problems;
}

function readCertificate(path: string, cwd: string, problems: string[]): X509Certificate | undefined {
  const pem = readPem('HTTPS_CERTFILE', path, cwd, 'path of a readable PEM certificate file', problems);
  if (pem === undefined) return undefined;
  try {
    // The first certificate of the file is the server's; the rest is its chain.
    return new X509Certificate(pem);
  } catch {
    problems.push(`HTTPS_CERTFILE: file ${JSON.stringify(path)} holds no PEM certificate (allowed: path of a readable PEM certificate file)`);
    return undefined;
  }
}

function readKey(path: string, pass: string, cwd: string, problems: string[]): KeyObject | undefined {
  const pem = readPem('HTTPS_KEYFILE', path, cwd, 'path of a readable PEM private key file', problems);
  if (pem === undefined) return undefined;
  // PKCS#8 ("ENCRYPTED PRIVATE KEY") and traditional OpenSSL ("Proc-Type: 4,ENCRYPTED") encryption.
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem.toString('latin1'));
  if (encrypted && pass === '') {
    problems.push('HTTPS_KEYFILE: the key is encrypted and HTTPS_KEYFILE_PASS is empty (allowed: its passphrase in HTTPS_KEYFILE_PASS, or an unencrypted key)');
    return undefined;
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', ...(encrypted && { passphrase: pass }) });
  } catch {
    problems.push(
      encrypted
        ? 'HTTPS_KEYFILE_PASS: does not decrypt HTTPS_KEYFILE (allowed: the passphrase of that key)'
        : `HTTPS_KEYFILE: file ${JSON.stringify(path)} holds no readable PEM private key (allowed: path of a readable PEM private key file)`,
    );
    return undefined;
  }
}

function readPem(name: string, path: string, cwd: string, allowed: string, problems: string[]): Buffer | undefined {
  try {
    return readFileSync(resolve(cwd, path));
  } catch (e) {
    const why = (e as { code?: string }).code ?? 'unreadable';
    problems.push(`${name}: ${JSON.stringify(path)} is not a readable file (${why}) (allowed: ${allowed})`);
    return undefined;
  }
}
