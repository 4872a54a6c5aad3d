import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { JWK } from 'jose';
import { z } from 'zod';
import { ToneguardError } from '../errors.js';
import { isPublicEncryptionKey } from './jwe.js';
import type { ProcessorKeys } from './types.js';

/** A processor allowed to pull card data: its public keys and the client certificate we issued it. */
export interface EnrolledProcessor {
  name: string;
  /** Public JWKs: `use: "enc"` to encrypt answers to, `use: "sig"` to verify its client assertions. */
  keys: JWK[];
  /** SHA-256 fingerprint of its client certificate, as Node's `getPeerCertificate().fingerprint256` prints it. */
  certFingerprint256: string;
  certSerial: string;
  enrolledAt: string;
  revokedAt: string | null;
}

const jwkSchema = z.looseObject({ kty: z.string(), use: z.enum(['enc', 'sig']).optional(), kid: z.string().optional() });
const entrySchema = z.object({
  name: z.string(),
  keys: z.array(jwkSchema),
  certFingerprint256: z.string(),
  certSerial: z.string(),
  enrolledAt: z.string(),
  revokedAt: z.string().nullable(),
});
const fileSchema = z.object({ processors: z.array(entrySchema) });

/**
 * The processors allowed to pull card data. Every lookup reads the current registry, so that a
 * revocation takes effect on the next request (on every node, in cluster mode).
 */
export interface ProcessorRegistry {
  list(): Promise<EnrolledProcessor[]>;
  /** An enrolled, unrevoked processor by name. */
  active(name: string): Promise<EnrolledProcessor | undefined>;
  /** An enrolled, unrevoked processor by its client certificate's fingerprint. */
  activeByFingerprint(fingerprint256: string): Promise<EnrolledProcessor | undefined>;
  /** Adds a processor, or replaces its keys and certificate when it enrolls again. */
  enroll(entry: EnrolledProcessor): Promise<void>;
  /** Returns false when no such active processor exists. */
  revoke(name: string, at?: Date): Promise<boolean>;
}

/**
 * The single-node registry: a JSON file under the data dir, replaced atomically (write, then
 * rename). Every lookup re-reads it when it changed on disk, so a revocation made by the CLI
 * takes effect on the running service's next request.
 */
export class FileProcessorRegistry implements ProcessorRegistry {
  private cached: { ino: number; mtimeMs: number; size: number; entries: EnrolledProcessor[] } | undefined;

  constructor(readonly path: string) {}

  async list(): Promise<EnrolledProcessor[]> {
    return this.read();
  }

  async active(name: string): Promise<EnrolledProcessor | undefined> {
    return this.read().find((p) => p.name === name && p.revokedAt === null);
  }

  async activeByFingerprint(fingerprint256: string): Promise<EnrolledProcessor | undefined> {
    const wanted = fingerprint256.toUpperCase();
    return this.read().find((p) => p.certFingerprint256.toUpperCase() === wanted && p.revokedAt === null);
  }

  async enroll(entry: EnrolledProcessor): Promise<void> {
    this.write([...this.read().filter((p) => p.name !== entry.name), entry]);
  }

  async revoke(name: string, at = new Date()): Promise<boolean> {
    const entries = this.read();
    const target = entries.find((p) => p.name === name && p.revokedAt === null);
    if (!target) return false;
    this.write(entries.map((p) => (p === target ? { ...p, revokedAt: at.toISOString() } : p)));
    return true;
  }

  private read(): EnrolledProcessor[] {
    if (!existsSync(this.path)) return [];
    const stat = statSync(this.path);
    // Every write renames a new file into place, so a new inode means a new registry.
    const cached = this.cached;
    if (cached && cached.ino === stat.ino && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.entries;
    const parsed = fileSchema.parse(JSON.parse(readFileSync(this.path, 'utf8')));
    const entries = parsed.processors as EnrolledProcessor[];
    this.cached = { ino: stat.ino, mtimeMs: stat.mtimeMs, size: stat.size, entries };
    return entries;
  }

  private write(entries: EnrolledProcessor[]): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ processors: entries }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
    this.cached = undefined;
  }
}

/** Splits an enrolment JWKS into its encryption and signing keys; refuses private keys and sets lacking either. */
export function processorKeys(jwks: unknown): ProcessorKeys {
  const parsed = z.object({ keys: z.array(jwkSchema) }).safeParse(jwks);
  if (!parsed.success) throw new ToneguardError('invalid_jwks', 'the key file is not a JWKS ({"keys":[...]})', 400);
  const keys = parsed.data.keys as JWK[];
  if (keys.some((k) => k.d !== undefined || k.k !== undefined)) {
    throw new ToneguardError('invalid_jwks', 'the key file holds private or secret key material; enroll public keys only', 400);
  }
  const encryption = keys.filter((k) => k.use === 'enc' && isPublicEncryptionKey(k));
  const signing = keys.filter((k) => k.use === 'sig');
  if (encryption.length === 0) throw new ToneguardError('invalid_jwks', 'the key file has no "use":"enc" key', 400);
  if (signing.length === 0) throw new ToneguardError('invalid_jwks', 'the key file has no "use":"sig" key', 400);
  return { encryption, signing };
}
