import { SYSTEM_ACTOR, type Actor, type AuditEvent, type AuditSink } from '../audit/types.js';
import type { CaptureResult, TokenizeRequest } from '../capture/types.js';
import type { Config } from '../config/index.js';
import { isToneguardError, ToneguardError } from '../errors.js';
import { open, seal } from './aead.js';
import { canonicalReaders, mayRead, recordAad, RecordNotBoundError, unknownToken, type Readers } from './binding.js';
import type { Keyring } from './keyring.js';
import { recordExpiry } from './lifetime.js';
import { OneTimeSecrets, type OneTimeSecretStore } from './one-time-secrets.js';
import { checkFields, decodeFields, encodeFields, kindOf } from './payload.js';
import { recordKeyAad, subjectKeyAad } from './rewrap.js';
import { tokenConflict, type StoredRecord, type TokenStore } from './store.js';
import { cardAlias, newToken, TOKEN_PATTERN } from './tokens.js';
import type { DetokenizedRecord, DetokenizeOptions, RecordBinding, RecordKind, TokenInfo, TokenizeValuesRequest, Vault } from './types.js';

export interface VaultDeps {
  config: Config;
  keyring: Keyring;
  store: TokenStore;
  audit: AuditSink;
  /** Where CVVs wait for their one detokenize: this process's memory unless given (cluster mode: Redis). */
  secrets?: OneTimeSecretStore;
  /** Milliseconds since the epoch; injected by tests. */
  clock?: () => number;
}

/** The vault plus housekeeping the composition root may call. */
export interface ManagedVault extends Vault {
  /** Deletes every record past its lifetime at once, unaudited (the service's audited, batched disposal is `disposeExpiredTokens`). */
  purgeExpired(): Promise<number>;
}

const INSERT_ATTEMPTS = 3;

/** The subject layer's associated data: distinct from the record layer's so the two never interchange. */
const subjectLayerAad = (token: string): string => `subject-layer:${token}`;

function toInfo(record: StoredRecord): TokenInfo {
  return {
    token: record.token,
    kind: record.kind,
    ...(record.brand ? { brand: record.brand } : {}),
    ...(record.bin ? { bin: record.bin } : {}),
    ...(record.last4 ? { last4: record.last4 } : {}),
    ...(record.alias ? { alias: record.alias } : {}),
    ...(record.subjectId ? { subjectId: record.subjectId } : {}),
    keyVersion: record.keyVersion,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
}

/** What an audit event may name when a lookup failed: a token, never an arbitrary string a caller sent (it could be a PAN). */
const auditableRef = (tokenOrAlias: string): string => (TOKEN_PATTERN.test(tokenOrAlias) ? tokenOrAlias : 'unrecognised');

/** The keyed fingerprint convergent lookup matches on: the card number for cards, every field otherwise. */
function fingerprintOf(keyring: Keyring, kind: RecordKind, subjectId: string | null, fields: ReadonlyMap<string, Uint8Array>): string {
  const scope = `${kind}:${subjectId ?? ''}`;
  const pan = fields.get('card_number');
  if (kind === 'card' && pan) return keyring.fingerprint(scope, pan);
  const encoded = encodeFields(fields);
  try {
    return keyring.fingerprint(scope, encoded);
  } finally {
    encoded.fill(0);
  }
}

/**
 * The token vault: envelope-encrypted records (a random data key per record, wrapped by the
 * current KEK, both bound to the token), CVVs never on a disk (one-time secrets), an audit event for every access.
 * A tokenize returns only once its audit record is durable; every other access queues its record
 * in order before returning and the trail's next group commit makes it durable (waiting for that
 * fdatasync would put it into every detokenize's latency).
 */
export function createVault(deps: VaultDeps): ManagedVault {
  const { keyring, store, audit } = deps;
  const settings = deps.config.vault;
  const now = deps.clock ?? Date.now;
  if (settings.convergent && !keyring.hasFingerprintKey) {
    throw new ToneguardError('config_missing_secret', 'vault.convergent needs vault.fingerprintKey (TONEGUARD_FINGERPRINT_KEY)', 500);
  }
  const secrets = deps.secrets ?? new OneTimeSecrets(now);

  const emit = (event: Omit<AuditEvent, 'outcome'> & { outcome?: AuditEvent['outcome'] }) => audit.record({ outcome: 'success', ...event });
  const failure = (action: string, actor: Actor, err: unknown, resource?: AuditEvent['resource']) =>
    emit({ action, actor, outcome: 'failure', ...(resource ? { resource } : {}), details: { code: isToneguardError(err) ? err.code : 'internal_error' } });

  async function subjectKey(subjectId: string, create: boolean): Promise<Buffer | undefined> {
    const aad = subjectKeyAad(subjectId);
    let stored = await store.getSubjectKey(subjectId);
    if (!stored && create) {
      const fresh = keyring.newDataKey(aad);
      fresh.key.fill(0);
      stored = await store.ensureSubjectKey({ subjectId, keyVersion: fresh.wrapped.keyVersion, wrappedKey: fresh.wrapped.wrapped, createdAt: now() });
    }
    return stored && keyring.unwrapDataKey({ keyVersion: stored.keyVersion, wrapped: stored.wrappedKey }, aad);
  }

  /** Seals the fields for `token` and its readers: under the subject key first when there is a subject, then under a fresh data key. */
  async function sealFields(token: string, readers: Readers, plain: Buffer, subjectId: string | null) {
    let inner = plain;
    if (subjectId) {
      const key = (await subjectKey(subjectId, true)) as Buffer;
      inner = seal(key, plain, subjectLayerAad(token));
      key.fill(0);
    }
    const { key, wrapped } = keyring.newDataKey(recordKeyAad(token));
    const ciphertext = seal(key, inner, recordAad(token, readers)).toString('base64url');
    key.fill(0);
    return { keyVersion: wrapped.keyVersion, wrappedKey: wrapped.wrapped, ciphertext };
  }

  async function openFields(stored: StoredRecord): Promise<Record<string, string>> {
    const key = keyring.unwrapDataKey({ keyVersion: stored.keyVersion, wrapped: stored.wrappedKey }, recordKeyAad(stored.token));
    let plain: Buffer;
    try {
      plain = open(key, Buffer.from(stored.ciphertext, 'base64url'), recordAad(stored.token, stored.readers));
    } finally {
      key.fill(0);
    }
    if (stored.subjectId) {
      const subject = await subjectKey(stored.subjectId, false);
      if (!subject) throw new ToneguardError('token_shredded', 'The data subject of this token has been erased', 410);
      const inner = plain;
      try {
        plain = open(subject, inner, subjectLayerAad(stored.token));
      } finally {
        subject.fill(0);
        inner.fill(0);
      }
    }
    try {
      return decodeFields(plain);
    } finally {
      plain.fill(0);
    }
  }

  async function put(kind: RecordKind, fields: ReadonlyMap<string, Uint8Array>, subjectId: string | null, readers: readonly string[]): Promise<StoredRecord> {
    const facts = checkFields(kind, fields);
    const cvv = fields.get('cvv');
    const kept = new Map([...fields].filter(([name]) => name !== 'cvv'));
    const at = now();
    const expiresAt = recordExpiry(at, facts.expiry, settings.tokenTtlMs);
    if (expiresAt <= at) throw new ToneguardError('card_expired', 'The card has expired', 422);
    const fingerprint = settings.convergent ? fingerprintOf(keyring, kind, subjectId, kept) : null;
    const plain = encodeFields(kept);
    try {
      const base = {
        kind,
        brand: facts.brand,
        bin: facts.bin,
        last4: facts.last4,
        subjectId,
        fingerprint,
        createdAt: at,
        expiresAt,
      };
      /** The same card captured for another processor: each capture's processors may read it. Undefined when the record went meanwhile. */
      const converge = async (existing: StoredRecord): Promise<StoredRecord | undefined> => {
        const union = canonicalReaders([...(existing.readers ?? []), ...readers]);
        const next = { ...existing, ...base, createdAt: existing.createdAt, readers: union, ...(await sealFields(existing.token, union, plain, subjectId)) };
        return (await store.replace(next)) ? next : undefined;
      };
      /** A new record under a fresh token; undefined when the token, alias or fingerprint was taken meanwhile. */
      const insert = async (): Promise<StoredRecord | undefined> => {
        const token = newToken();
        const pan = kept.get('card_number');
        const alias = settings.tokenFormat === 'format-preserving' && pan ? cardAlias(pan) : null;
        const bound = canonicalReaders(readers);
        const candidate: StoredRecord = { token, alias, ...base, readers: bound, ...(await sealFields(token, bound, plain, subjectId)) };
        try {
          await store.insert(candidate);
          return candidate;
        } catch (err) {
          if (isToneguardError(err) && err.code === 'token_conflict') return undefined;
          throw err;
        }
      };
      let stored: StoredRecord | undefined;
      // A conflict on the fingerprint means another node stored the same card just now: the next round converges on its record.
      for (let attempt = 1; !stored; attempt++) {
        if (attempt > INSERT_ATTEMPTS) throw tokenConflict();
        const existing = fingerprint ? await store.findByFingerprint(fingerprint, at) : undefined;
        stored = existing ? await converge(existing) : await insert();
      }
      if (cvv) await secrets.put(stored.token, cvv, settings.cvvTtlMs);
      return stored;
    } finally {
      plain.fill(0);
    }
  }

  async function tokenizeAudited(
    kind: RecordKind,
    fields: Map<string, Uint8Array>,
    actor: Actor,
    reference: string,
    readers: readonly string[] = [],
    subjectId?: string,
  ) {
    try {
      // A record nobody could audit is refused before anything is stored.
      if (audit.available?.() === false) throw new ToneguardError('audit_unavailable', 'The audit trail cannot be written; tokenizing is refused until it recovers', 503);
      const stored = await put(kind, fields, subjectId ?? null, readers);
      // A token goes back only once its audit record is durable (group-committed with its neighbours').
      await emit({
        action: 'vault.tokenize',
        actor,
        resource: { type: 'token', id: stored.token },
        details: {
          kind,
          reference,
          keyVersion: stored.keyVersion,
          brand: stored.brand,
          last4: stored.last4,
          cvvHeld: fields.has('cvv'),
          readers: (stored.readers ?? []).join(','),
        },
      });
      return toInfo(stored);
    } catch (err) {
      failure('vault.tokenize', actor, err);
      throw err;
    } finally {
      for (const bytes of fields.values()) bytes.fill(0);
    }
  }

  /** The record, if `processor` may read it; the binding is checked before expiry, so an expired record tells a stranger nothing either. */
  async function readable(tokenOrAlias: string, processor: string): Promise<StoredRecord> {
    const stored = await store.get(tokenOrAlias);
    if (!stored) throw unknownToken();
    if (!mayRead(stored.readers, processor, settings.unboundReaders)) throw new RecordNotBoundError();
    if (stored.expiresAt <= now()) {
      if (await store.delete(stored.token)) {
        emit({ action: 'vault.disposed', actor: SYSTEM_ACTOR, resource: { type: 'token', id: stored.token }, details: { reason: 'expired', count: 1 } });
      }
      await secrets.destroy(stored.token);
      throw new ToneguardError('token_expired', 'The token has expired and its data is gone', 410);
    }
    return stored;
  }

  const purgeExpired = async (): Promise<number> => store.deleteExpired(now());

  return {
    async tokenize(request: TokenizeRequest & RecordBinding): Promise<CaptureResult> {
      const info = await tokenizeAudited(kindOf(request.values), request.values, request.actor, request.captureId, request.readers, request.subjectId);
      return {
        token: info.token,
        ...(info.brand ? { brand: info.brand } : {}),
        ...(info.last4 ? { last4: info.last4 } : {}),
        expiresAt: info.expiresAt,
      };
    },

    async tokenizeValues(request: TokenizeValuesRequest): Promise<TokenInfo> {
      const fields = new Map(Object.entries(request.values).map(([name, value]) => [name, Buffer.from(value, 'latin1')]));
      return tokenizeAudited(request.kind, fields, request.actor, request.reference, request.readers, request.subjectId);
    },

    async info(tokenOrAlias: string): Promise<TokenInfo | undefined> {
      const stored = await store.get(tokenOrAlias);
      return stored && toInfo(stored);
    },

    async detokenize(tokenOrAlias: string, options: DetokenizeOptions): Promise<DetokenizedRecord> {
      const includeCvv = options.includeCvv ?? false;
      let stored: StoredRecord | undefined;
      try {
        stored = await readable(tokenOrAlias, options.processor);
        const fields = await openFields(stored);
        const cvv = includeCvv ? await secrets.take(stored.token) : undefined;
        emit({
          action: 'vault.detokenize',
          actor: options.actor,
          resource: { type: 'token', id: stored.token },
          details: { includeCvv, cvvReturned: cvv !== undefined },
        });
        return { info: toInfo(stored), fields, ...(cvv !== undefined ? { cvv } : {}) };
      } catch (err) {
        const resource = { type: 'token', id: stored?.token ?? auditableRef(tokenOrAlias) };
        if (err instanceof RecordNotBoundError) {
          emit({ action: 'vault.detokenize', actor: options.actor, outcome: 'denied', resource, details: { code: 'processor_not_bound', processor: options.processor } });
        } else {
          failure('vault.detokenize', options.actor, err, resource);
        }
        throw err;
      }
    },

    async delete(tokenOrAlias: string, actor: Actor): Promise<boolean> {
      const stored = await store.get(tokenOrAlias);
      const deleted = stored ? await store.delete(stored.token) : false;
      if (stored) await secrets.destroy(stored.token);
      emit({ action: 'vault.delete', actor, outcome: deleted ? 'success' : 'failure', resource: { type: 'token', id: stored?.token ?? auditableRef(tokenOrAlias) } });
      return deleted;
    },

    async shredSubject(subjectId: string, actor: Actor): Promise<number> {
      try {
        const count = await store.shredSubject(subjectId);
        emit({ action: 'vault.shred', actor, resource: { type: 'subject', id: subjectId }, details: { records: count } });
        return count;
      } catch (err) {
        failure('vault.shred', actor, err, { type: 'subject', id: subjectId });
        throw err;
      }
    },

    purgeExpired,

    async close(): Promise<void> {
      await secrets.close();
      await store.close();
    },
  };
}
