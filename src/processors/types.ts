import type { KeyObject } from 'node:crypto';
import type { CryptoKey, JWK } from 'jose';
import type { ProcessorConfig } from '../config/index.js';
import type { DetokenizedRecord } from '../vault/types.js';

/**
 * What a processor can do with card data, as capabilities rather than a class hierarchy: it may
 * take the card data in the clear over TLS, take it as an encrypted payload, and answer with a
 * token of its own.
 */
export interface ProcessorCapabilities {
  /** Card data reaches it in the clear inside TLS (Twilio's Generic Pay Connector calls us this way). */
  acceptsRawPanOverTls: boolean;
  /** Card data reaches it as a JWE to its key: pushed to it, or pulled by it through detokenize. */
  acceptsEncryptedPayload: boolean;
  /** Its answer is its own token, which the agent sees instead of ours. */
  returnsOwnToken: boolean;
  /** We deliver on capture completion (otherwise it pulls, or Twilio drives it). */
  pushedOnCompletion: boolean;
}

export const PROCESSOR_CAPABILITIES: Readonly<Record<ProcessorConfig['type'], ProcessorCapabilities>> = {
  'jwe-push': { acceptsRawPanOverTls: false, acceptsEncryptedPayload: true, returnsOwnToken: true, pushedOnCompletion: true },
  vault: { acceptsRawPanOverTls: false, acceptsEncryptedPayload: true, returnsOwnToken: false, pushedOnCompletion: false },
  'twilio-generic-pay': { acceptsRawPanOverTls: true, acceptsEncryptedPayload: false, returnsOwnToken: false, pushedOnCompletion: false },
};

/** A vault record as a processor receives it (push or detokenize), once decrypted. */
export interface RecordPayload {
  kind: string;
  /** Field name → digits (`card_number`, `expiry` as MMYY, `postal_code`, `routing_number`, `account_number`). */
  fields: Record<string, string>;
  /** The security code, present at most once. */
  cvv?: string;
  brand?: string;
  last4?: string;
}

/** What a push delivers. Field names follow the public contract. */
export interface CardPayload extends RecordPayload {
  /** Capture id or connector transaction id: the processor's correlation id. */
  reference: string;
  /** Our vault token for the same data. */
  vaultToken: string;
}

/** What a push processor answered. */
export interface PushReceipt {
  /** The processor's own token or reference for the card data. */
  token: string;
  attempts: number;
}

/** Toneguard's service signing key: requests we sign, verifiable at `/.well-known/jwks.json`. */
export interface ServiceSigner {
  kid: string;
  alg: string;
  key: CryptoKey | KeyObject;
}

/** A processor's public keys, as enrolled or configured. */
export interface ProcessorKeys {
  encryption: JWK[];
  signing: JWK[];
}

/** The processor-facing view of a detokenized record: optional parts only when present. */
export function recordPayload(record: DetokenizedRecord): RecordPayload {
  const { info } = record;
  return {
    kind: info.kind,
    fields: record.fields,
    ...(record.cvv !== undefined ? { cvv: record.cvv } : {}),
    ...(info.brand ? { brand: info.brand } : {}),
    ...(info.last4 ? { last4: info.last4 } : {}),
  };
}
