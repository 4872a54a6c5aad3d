import { ToneguardError } from '../errors.js';

/**
 * The processors allowed to read a record (config `processors[].name`), fixed at tokenization.
 * `null` marks a record stored before bindings existed: it is readable only by the processors
 * `vault.unboundReaders` lists explicitly, by none by default.
 */
export type Readers = readonly string[] | null;

/** The canonical form stored and authenticated: sorted, without repeats. */
export function canonicalReaders(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}

/**
 * The associated data of a record's ciphertext. A bound record authenticates its readers along
 * with its token, so widening the binding in the store makes the record fail to decrypt; an
 * unbound (older) record keeps the token alone, as it was sealed.
 */
export function recordAad(token: string, readers: Readers): string {
  return readers === null ? token : `record-v2:${JSON.stringify([token, readers])}`;
}

export function mayRead(readers: Readers, processor: string, unboundReaders: readonly string[]): boolean {
  return (readers ?? unboundReaders).includes(processor);
}

const UNKNOWN_TOKEN = ['token_not_found', 'No such token', 404] as const;

/**
 * A read for a processor the record is not bound to. It carries the very code, status and
 * message of an unknown token, so the caller learns nothing; only the audit trail and the
 * metrics tell the two apart.
 */
export class RecordNotBoundError extends ToneguardError {
  constructor() {
    super(...UNKNOWN_TOKEN);
  }
}

export const unknownToken = (): ToneguardError => new ToneguardError(...UNKNOWN_TOKEN);
