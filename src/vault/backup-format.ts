import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { isToneguardError, ToneguardError } from '../errors.js';
import { open, seal } from './aead.js';

/**
 * An encrypted vault backup:
 *   "TGVBAK1\n" ‖ u32 header length ‖ header JSON ‖ segment*
 *   segment = u32 length ‖ iv ‖ AES-256-GCM ciphertext ‖ tag
 * Segment 0 is the manifest; the rest are the snapshot in order. Every segment is sealed under a
 * key derived (HKDF) from the backup key and the file's random salt, with the header's digest,
 * the segment index and a final flag as associated data: the header, the manifest and every
 * chunk are authenticated, and no segment can be swapped, dropped, reordered or cut off.
 */
const MAGIC = Buffer.from('TGVBAK1\n');
export const BACKUP_FORMAT = 1;
/** Plaintext bytes per snapshot segment. */
const CHUNK_BYTES = 1024 * 1024;
const MAX_SEGMENT_BYTES = CHUNK_BYTES + 1024;
const MAX_HEADER_BYTES = 4096;

const headerSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  cipher: z.literal('AES-256-GCM'),
  kdf: z.literal('HKDF-SHA256'),
  salt: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  /** Names the backup key without revealing it, so a wrong key is told apart from a damaged file. */
  keyId: z.string().regex(/^[A-Za-z0-9_-]{11}$/),
});
type BackupHeader = z.infer<typeof headerSchema>;

export const manifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.iso.datetime(),
  store: z.literal('sqlite'),
  counts: z.strictObject({ records: z.int().min(0), subjectKeys: z.int().min(0), byKind: z.record(z.string(), z.int().min(0)) }),
  /** Every KEK version a record or subject key in the snapshot is wrapped under: the keys a restore needs. */
  keyVersions: z.array(z.int().min(1)),
  snapshot: z.strictObject({ bytes: z.int().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), segments: z.int().min(1) }),
});
export type BackupManifest = z.infer<typeof manifestSchema>;
/** What the caller describes; the snapshot's size, digest and segment count are measured here. */
export type ManifestFacts = Omit<BackupManifest, 'format' | 'snapshot'>;

export function backupInvalid(reason: string): ToneguardError {
  return new ToneguardError('backup_invalid', `the backup is damaged or was tampered with (${reason})`, 2);
}

const keyIdOf = (key: Buffer): string => createHmac('sha256', key).update('toneguard-backup-key-id').digest().subarray(0, 8).toString('base64url');
const segmentKey = (key: Buffer, salt: Buffer): Buffer => Buffer.from(hkdfSync('sha256', key, salt, 'toneguard-vault-backup-v1', 32));
const segmentAad = (headerDigest: string, index: number, final: boolean): string => `${headerDigest}:${index}:${final ? 1 : 0}`;

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

/** Reads `length` bytes at `position`, or fewer at the end of the file. */
function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const n = readSync(fd, buffer, filled, length - filled, position + filled);
    if (n === 0) break;
    filled += n;
  }
  return buffer.subarray(0, filled);
}

/** The SHA-256 and size of a file, read in chunks. */
function digestFile(path: string): { sha256: string; bytes: number } {
  const fd = openSync(path, 'r');
  try {
    const hash = createHash('sha256');
    let bytes = 0;
    for (let chunk = readAt(fd, 0, CHUNK_BYTES); chunk.length > 0; chunk = readAt(fd, bytes, CHUNK_BYTES)) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { sha256: hash.digest('hex'), bytes };
  } finally {
    closeSync(fd);
  }
}

/**
 * Encrypts the snapshot at `snapshotPath` with its manifest into `outPath` (mode 0600, created
 * new: an existing file is never overwritten). The file appears only once complete and fsynced.
 */
export function writeBackupFile(outPath: string, key: Buffer, facts: ManifestFacts, snapshotPath: string): BackupManifest {
  const { sha256, bytes } = digestFile(snapshotPath);
  const segments = Math.ceil(bytes / CHUNK_BYTES);
  const manifest: BackupManifest = { format: BACKUP_FORMAT, ...facts, snapshot: { bytes, sha256, segments } };
  const salt = randomBytes(32);
  const header: BackupHeader = { format: BACKUP_FORMAT, cipher: 'AES-256-GCM', kdf: 'HKDF-SHA256', salt: salt.toString('base64url'), keyId: keyIdOf(key) };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const headerDigest = createHash('sha256').update(headerBytes).digest('hex');
  const fileKey = segmentKey(key, salt);
  const partial = `${outPath}.partial`;
  const out = openSync(partial, 'wx', 0o600);
  const input = openSync(snapshotPath, 'r');
  try {
    writeSync(out, Buffer.concat([MAGIC, u32(headerBytes.length), headerBytes]));
    const writeSegment = (plain: Buffer, index: number, final: boolean) => {
      const sealed = seal(fileKey, plain, segmentAad(headerDigest, index, final));
      writeSync(out, Buffer.concat([u32(sealed.length), sealed]));
    };
    writeSegment(Buffer.from(JSON.stringify(manifest)), 0, false);
    for (let i = 0; i < segments; i++) writeSegment(readAt(input, i * CHUNK_BYTES, CHUNK_BYTES), i + 1, i === segments - 1);
    fsyncSync(out);
  } catch (err) {
    closeSync(out);
    unlinkSync(partial);
    throw err;
  } finally {
    closeSync(input);
    fileKey.fill(0);
  }
  closeSync(out);
  renameSync(partial, outPath);
  return manifest;
}

/**
 * Authenticates the whole backup at `inPath` and hands each snapshot chunk, in order, to
 * `onChunk`. Returns the manifest only after every segment, the digest and the size check out.
 * Throws `backup_key_mismatch` for another key, `backup_invalid` for anything damaged.
 */
export function readBackupFile(inPath: string, key: Buffer, onChunk: (plain: Buffer) => void): BackupManifest {
  const fd = openSync(inPath, 'r');
  try {
    const size = fstatSync(fd).size;
    const lead = readAt(fd, 0, MAGIC.length + 4);
    if (lead.length < MAGIC.length + 4 || !lead.subarray(0, MAGIC.length).equals(MAGIC)) throw backupInvalid('not a Toneguard vault backup');
    const headerLength = lead.readUInt32BE(MAGIC.length);
    if (headerLength > MAX_HEADER_BYTES) throw backupInvalid('header too long');
    const headerBytes = readAt(fd, lead.length, headerLength);
    const header = headerSchema.safeParse(parseJson(headerBytes));
    if (!header.success) throw backupInvalid('header');
    if (header.data.keyId !== keyIdOf(key)) throw new ToneguardError('backup_key_mismatch', 'the backup was made with another TONEGUARD_BACKUP_KEY', 2);
    const headerDigest = createHash('sha256').update(headerBytes).digest('hex');
    const fileKey = segmentKey(key, Buffer.from(header.data.salt, 'base64url'));
    let position = lead.length + headerLength;
    const nextSegment = (index: number, final: boolean): Buffer => {
      const length = readAt(fd, position, 4);
      if (length.length < 4) throw backupInvalid('cut short');
      const n = length.readUInt32BE(0);
      if (n > MAX_SEGMENT_BYTES) throw backupInvalid(`segment ${index} too long`);
      const sealed = readAt(fd, position + 4, n);
      if (sealed.length < n) throw backupInvalid('cut short');
      position += 4 + n;
      try {
        return open(fileKey, sealed, segmentAad(headerDigest, index, final));
      } catch (err) {
        if (isToneguardError(err) && err.code === 'decrypt_failed') throw backupInvalid(`segment ${index} does not authenticate`);
        throw err;
      }
    };
    try {
      const parsed = manifestSchema.safeParse(parseJson(nextSegment(0, false)));
      if (!parsed.success) throw backupInvalid('manifest');
      const manifest = parsed.data;
      const hash = createHash('sha256');
      let bytes = 0;
      for (let i = 1; i <= manifest.snapshot.segments; i++) {
        const chunk = nextSegment(i, i === manifest.snapshot.segments);
        hash.update(chunk);
        bytes += chunk.length;
        onChunk(chunk);
      }
      if (position !== size) throw backupInvalid('trailing bytes');
      if (bytes !== manifest.snapshot.bytes || hash.digest('hex') !== manifest.snapshot.sha256) throw backupInvalid('snapshot checksum');
      return manifest;
    } finally {
      fileKey.fill(0);
    }
  } finally {
    closeSync(fd);
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}
