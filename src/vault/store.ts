import { ToneguardError } from '../errors.js';
import type { RecordKind, WrappedKey } from './types.js';

/** One record as a store keeps it: ciphertext and metadata only, never a value. */
export interface StoredRecord {
  token: string;
  kind: RecordKind;
  brand: string | null;
  bin: string | null;
  last4: string | null;
  alias: string | null;
  subjectId: string | null;
  /** Keyed HMAC fingerprint, only for convergent lookup. */
  fingerprint: string | null;
  /** The record's data key, wrapped under KEK `keyVersion` with the token as associated data. */
  keyVersion: number;
  wrappedKey: string;
  /** base64url iv ‖ ciphertext ‖ tag, bound to the token and the readers (`recordAad` in binding.ts). */
  ciphertext: string;
  /** Processor names allowed to read the record, sorted; null for a record stored before bindings existed. */
  readers: string[] | null;
  createdAt: number;
  expiresAt: number;
}

/** A data subject's key (crypto-shredding): destroying it makes every copy of the subject's records unreadable. */
export interface SubjectKeyRecord {
  subjectId: string;
  keyVersion: number;
  wrappedKey: string;
  createdAt: number;
}

/** A wrapped key somewhere in the store, as rotation sees it. */
export interface WrappedRef {
  table: 'record' | 'subject';
  id: string;
  keyVersion: number;
  wrappedKey: string;
}

export interface KeyVersionCount {
  keyVersion: number;
  records: number;
  subjectKeys: number;
}

/**
 * Where ciphertexts live. Asynchronous so a networked store (PostgreSQL) fits behind it;
 * every method that changes more than one row is atomic.
 */
export interface TokenStore {
  /** Rejects with `token_conflict` when the token or alias is taken. Resolves once durable. */
  insert(record: StoredRecord): Promise<void>;
  /** By token or by format-preserving alias. */
  get(tokenOrAlias: string): Promise<StoredRecord | undefined>;
  /** The live record with this fingerprint, if any. */
  findByFingerprint(fingerprint: string, now: number): Promise<StoredRecord | undefined>;
  /** Replaces a record's sealed content, readers and lifetime in place (convergent re-tokenize). */
  replace(record: StoredRecord): Promise<boolean>;
  delete(token: string): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
  /** Deletes up to `limit` records expired at `now`, oldest first, in one transaction; returns their tokens. */
  disposeExpired(now: number, limit: number): Promise<string[]>;
  /**
   * Makes deletions reach every file: SQLite checkpoints its WAL into the database file (where
   * `secure_delete` has zeroed the freed bytes) and truncates the WAL, so no old frame keeps a
   * deleted row. False when a reader held the WAL and the next call must try again.
   */
  flushDeleted(): Promise<boolean>;
  /** Stores `candidate` unless the subject already has a key; returns the subject's key. */
  ensureSubjectKey(candidate: SubjectKeyRecord): Promise<SubjectKeyRecord>;
  getSubjectKey(subjectId: string): Promise<SubjectKeyRecord | undefined>;
  /** Atomically destroys the subject's key and deletes its records; returns how many records. */
  shredSubject(subjectId: string): Promise<number>;
  /** Up to `limit` wrapped keys under versions other than `version`. */
  wrappedNotUnder(version: number, limit: number): Promise<WrappedRef[]>;
  /** In one transaction; each change applies only if the row still holds the old wrapped key. */
  updateWrapped(changes: { ref: WrappedRef; next: WrappedKey }[]): Promise<number>;
  countByKeyVersion(): Promise<KeyVersionCount[]>;
  close(): Promise<void>;
}

export function tokenConflict(): ToneguardError {
  return new ToneguardError('token_conflict', 'The token or alias already exists', 409);
}

/** Sums `[version, count]` pairs of records and subject keys per KEK version, shared by the stores. */
export function tallyVersions(records: Iterable<[number, number]>, subjects: Iterable<[number, number]>): KeyVersionCount[] {
  const counts = new Map<number, KeyVersionCount>();
  const entry = (v: number) => counts.get(v) ?? counts.set(v, { keyVersion: v, records: 0, subjectKeys: 0 }).get(v)!;
  for (const [v, n] of records) entry(v).records += n;
  for (const [v, n] of subjects) entry(v).subjectKeys += n;
  return [...counts.values()].sort((a, b) => a.keyVersion - b.keyVersion);
}

const copyRecord = (record: StoredRecord): StoredRecord => ({ ...record, readers: record.readers && [...record.readers] });

/** The in-memory store: for tests and for running without a disk. */
export class MemoryTokenStore implements TokenStore {
  private readonly records = new Map<string, StoredRecord>();
  private readonly aliases = new Map<string, string>();
  private readonly subjects = new Map<string, SubjectKeyRecord>();

  async insert(record: StoredRecord): Promise<void> {
    if (this.records.has(record.token) || (record.alias && this.aliases.has(record.alias))) throw tokenConflict();
    this.records.set(record.token, copyRecord(record));
    if (record.alias) this.aliases.set(record.alias, record.token);
  }

  async get(tokenOrAlias: string): Promise<StoredRecord | undefined> {
    const record = this.records.get(tokenOrAlias) ?? this.records.get(this.aliases.get(tokenOrAlias) ?? '');
    return record && copyRecord(record);
  }

  async findByFingerprint(fingerprint: string, now: number): Promise<StoredRecord | undefined> {
    for (const record of this.records.values()) if (record.fingerprint === fingerprint && record.expiresAt > now) return copyRecord(record);
    return undefined;
  }

  async replace(record: StoredRecord): Promise<boolean> {
    const old = this.records.get(record.token);
    if (!old) return false;
    this.records.set(record.token, { ...copyRecord(record), alias: old.alias, createdAt: old.createdAt });
    return true;
  }

  async delete(token: string): Promise<boolean> {
    const record = this.records.get(token);
    if (!record) return false;
    this.records.delete(token);
    if (record.alias) this.aliases.delete(record.alias);
    return true;
  }

  async deleteExpired(now: number): Promise<number> {
    let count = 0;
    for (const record of [...this.records.values()]) if (record.expiresAt <= now && (await this.delete(record.token))) count++;
    return count;
  }

  async disposeExpired(now: number, limit: number): Promise<string[]> {
    const expired = [...this.records.values()].filter((r) => r.expiresAt <= now).sort((a, b) => a.expiresAt - b.expiresAt).slice(0, limit);
    for (const record of expired) await this.delete(record.token);
    return expired.map((r) => r.token);
  }

  async flushDeleted(): Promise<boolean> {
    return true;
  }

  async ensureSubjectKey(candidate: SubjectKeyRecord): Promise<SubjectKeyRecord> {
    const existing = this.subjects.get(candidate.subjectId);
    if (existing) return { ...existing };
    this.subjects.set(candidate.subjectId, { ...candidate });
    return { ...candidate };
  }

  async getSubjectKey(subjectId: string): Promise<SubjectKeyRecord | undefined> {
    const key = this.subjects.get(subjectId);
    return key && { ...key };
  }

  async shredSubject(subjectId: string): Promise<number> {
    this.subjects.delete(subjectId);
    let count = 0;
    for (const record of [...this.records.values()]) if (record.subjectId === subjectId && (await this.delete(record.token))) count++;
    return count;
  }

  async wrappedNotUnder(version: number, limit: number): Promise<WrappedRef[]> {
    const refs: WrappedRef[] = [];
    for (const s of this.subjects.values()) {
      if (refs.length >= limit) return refs;
      if (s.keyVersion !== version) refs.push({ table: 'subject', id: s.subjectId, keyVersion: s.keyVersion, wrappedKey: s.wrappedKey });
    }
    for (const r of this.records.values()) {
      if (refs.length >= limit) return refs;
      if (r.keyVersion !== version) refs.push({ table: 'record', id: r.token, keyVersion: r.keyVersion, wrappedKey: r.wrappedKey });
    }
    return refs;
  }

  async updateWrapped(changes: { ref: WrappedRef; next: WrappedKey }[]): Promise<number> {
    let applied = 0;
    for (const { ref, next } of changes) {
      const row = ref.table === 'subject' ? this.subjects.get(ref.id) : this.records.get(ref.id);
      if (!row || row.wrappedKey !== ref.wrappedKey) continue;
      row.keyVersion = next.keyVersion;
      row.wrappedKey = next.wrapped;
      applied++;
    }
    return applied;
  }

  async countByKeyVersion(): Promise<KeyVersionCount[]> {
    return tallyVersions(
      [...this.records.values()].map((r) => [r.keyVersion, 1]),
      [...this.subjects.values()].map((s) => [s.keyVersion, 1]),
    );
  }

  async close(): Promise<void> {
    this.records.clear();
    this.aliases.clear();
    this.subjects.clear();
  }
}
