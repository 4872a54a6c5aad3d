import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessorCa } from './ca.js';
import type { DatabasePool } from '../db/pool.js';
import { PostgresProcessorRegistry } from './postgres-registry.js';
import { FileProcessorRegistry, processorKeys, type ProcessorRegistry } from './registry.js';

/** Where processor enrollment lives under the data dir. */
export function processorPaths(dataDir: string): { registry: string; caDir: string; clientsDir: string; usedAssertions: string } {
  const root = join(dataDir, 'processors');
  return {
    registry: join(root, 'registry.json'),
    caDir: join(root, 'ca'),
    clientsDir: join(root, 'clients'),
    usedAssertions: join(root, 'used-assertions.db'),
  };
}

/** The cluster's registry when there is a cluster database, else the data dir's file. */
export function openProcessorRegistry(dataDir: string, database?: DatabasePool): ProcessorRegistry {
  return database ? new PostgresProcessorRegistry(database) : new FileProcessorRegistry(processorPaths(dataDir).registry);
}

export interface Enrollment {
  name: string;
  certPath: string;
  keyPath: string;
  caPath: string;
  fingerprint256: string;
}

/**
 * Registers a processor's public keys (a JWKS with `use: enc` and `use: sig` keys) and issues
 * it a client certificate from our CA. Enrolling again replaces keys and certificate. The
 * registry is the data dir's file unless given (cluster mode: PostgreSQL).
 */
export async function enrollProcessor(dataDir: string, name: string, jwks: unknown, registry = openProcessorRegistry(dataDir)): Promise<Enrollment> {
  const keys = processorKeys(jwks);
  const paths = processorPaths(dataDir);
  const ca = new ProcessorCa(paths.caDir);
  const issued = ca.issueClientCertificate(name);
  mkdirSync(paths.clientsDir, { recursive: true, mode: 0o700 });
  const certPath = join(paths.clientsDir, `${name}.crt`);
  const keyPath = join(paths.clientsDir, `${name}.key`);
  writeFileSync(keyPath, issued.keyPem, { mode: 0o600 });
  writeFileSync(certPath, issued.certPem, { mode: 0o644 });
  await registry.enroll({
    name,
    keys: [...keys.encryption, ...keys.signing],
    certFingerprint256: issued.fingerprint256,
    certSerial: issued.serial,
    enrolledAt: new Date().toISOString(),
    revokedAt: null,
  });
  return { name, certPath, keyPath, caPath: ca.certPath, fingerprint256: issued.fingerprint256 };
}

/**
 * What the HTTPS listener needs for processor mTLS: our processor CA, and asking clients for a
 * certificate without refusing the handshake (the detokenize route decides, per request, against
 * the registry). Undefined until the first enrolment has created the CA.
 */
export function processorClientTls(dataDir: string): { ca: string; requestCert: true } | undefined {
  const ca = new ProcessorCa(processorPaths(dataDir).caDir);
  return ca.exists() ? { ca: ca.certificate(), requestCert: true } : undefined;
}
