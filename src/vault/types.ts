import type { Actor } from '../audit/types.js';
import type { CaptureResult, TokenizeRequest, Tokenizer } from '../capture/types.js';

export type RecordKind = 'card' | 'bank' | 'identity' | 'generic';

/** A data key wrapped by a versioned KEK. */
export interface WrappedKey {
  keyVersion: number;
  /** base64url of iv ‖ ciphertext ‖ tag */
  wrapped: string;
}

/** The keyring's contract, used by the vault and by the recorder (chunked recording encryption). */
export interface KeyringPort {
  readonly currentVersion: number;
  /** A fresh random 256-bit data key, and the same key wrapped under the current KEK with `aad` bound. */
  newDataKey(aad: string): { key: Buffer; wrapped: WrappedKey };
  /** Throws ToneguardError `key_unknown_version` or `decrypt_failed`, never returns garbage. */
  unwrapDataKey(wrapped: WrappedKey, aad: string): Buffer;
}

/** What anyone may know about a token without decrypting anything. */
export interface TokenInfo {
  token: string;
  kind: RecordKind;
  brand?: string;
  bin?: string;
  last4?: string;
  /** Format-preserving alias, when one was asked for. */
  alias?: string;
  subjectId?: string;
  keyVersion: number;
  createdAt: string;
  expiresAt: string;
}

export interface DetokenizedRecord {
  info: TokenInfo;
  /** Field name → value (for a card: `card_number`, `expiry`, and `postal_code` when captured). */
  fields: Record<string, string>;
  /** Present only on the first read that asks for it, within its TTL; never stored on disk. */
  cvv?: string;
}

/** Which processors may read the new record back (detokenize, push). Without it, none may. */
export interface RecordBinding {
  /** Processor names (`processors[].name`). */
  readers?: readonly string[];
}

/** Input from places that receive values as strings (the Generic Pay Connector). */
export interface TokenizeValuesRequest extends RecordBinding {
  kind: RecordKind;
  values: Record<string, string>;
  actor: Actor;
  reference: string;
  subjectId?: string;
}

export interface DetokenizeOptions {
  actor: Actor;
  /** The processor the data is read for: the record must be bound to it, or the token is unknown. */
  processor: string;
  includeCvv?: boolean;
}

/** The vault. `tokenize` (from Tokenizer) is what capture sessions call; it zeroes the buffers it receives. */
export interface Vault extends Tokenizer {
  tokenize(request: TokenizeRequest & RecordBinding): Promise<CaptureResult>;
  tokenizeValues(request: TokenizeValuesRequest): Promise<TokenInfo>;
  info(token: string): Promise<TokenInfo | undefined>;
  /**
   * Throws ToneguardError `token_not_found` (404), also when the record is not bound to
   * `options.processor` (then a `RecordNotBoundError`), or `token_expired`. Audited.
   */
  detokenize(token: string, options: DetokenizeOptions): Promise<DetokenizedRecord>;
  delete(token: string, actor: Actor): Promise<boolean>;
  /** GDPR erasure: destroys every record of the subject (crypto-shredding). Returns how many. */
  shredSubject(subjectId: string, actor: Actor): Promise<number>;
  close(): Promise<void>;
}
