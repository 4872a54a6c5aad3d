import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { join } from 'node:path';
import forge from 'node-forge';
import type { Config } from '../config/index.js';

/** TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 suites are all modern. */
export const MODERN_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  /** Client-certificate CAs (mutual TLS for processors). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Ask clients for a certificate. Unauthenticated clients still connect; routes check `socket.authorized`. */
  requestCert?: boolean;
}

/** HTTPS server options for PCI DSS 4.2.1: TLS 1.2 or newer, modern suites, server cipher order. */
export function httpsServerOptions(material: TlsMaterial): ServerOptions {
  return {
    cert: material.cert,
    key: material.key,
    minVersion: 'TLSv1.2',
    ciphers: MODERN_CIPHERS,
    honorCipherOrder: true,
    ...(material.ca ? { ca: material.ca } : {}),
    ...(material.requestCert ? { requestCert: true, rejectUnauthorized: false } : {}),
  };
}

/**
 * The certificate the service terminates TLS with: configured files, else (development) a
 * self-signed one under the data directory, else none (plain HTTP, e.g. behind a TLS proxy).
 */
export function loadTlsMaterial(config: Pick<Config, 'http' | 'dataDir' | 'publicUrl'>): TlsMaterial | undefined {
  const tls = config.http.tls;
  if (tls.certFile && tls.keyFile) return { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) };
  if (tls.selfSigned) return selfSignedCertificate(join(config.dataDir, 'tls'), [new URL(config.publicUrl).hostname, 'localhost', '127.0.0.1']);
  return undefined;
}

/** A self-signed certificate for development, reused while valid. node-forge builds it; node:crypto makes the key. */
export function selfSignedCertificate(dir: string, hostnames: readonly string[]): TlsMaterial {
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath);
    if (Date.parse(new X509Certificate(cert).validTo) > Date.now() + 86_400_000) return { cert, key: readFileSync(keyPath) };
  }
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${Buffer.from(forge.random.getBytesSync(8), 'binary').toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 90 * 86_400_000);
  const subject = [{ name: 'commonName', value: hostnames[0] ?? 'localhost' }, { name: 'organizationName', value: 'Toneguard development' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const altNames = [...new Set(hostnames)].map((h) => (/^[\d.]+$/.test(h) ? { type: 7, ip: h } : { type: 2, value: h }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, keyPem, { mode: 0o600 });
  writeFileSync(certPath, certPem);
  return { cert: certPem, key: keyPem };
}
