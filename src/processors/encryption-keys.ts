import type { JWK } from 'jose';
import { ToneguardError } from '../errors.js';
import { isPublicEncryptionKey } from './jwe.js';

export interface EncryptionKeySource {
  /** A public JWK given in the configuration. */
  jwk?: Record<string, unknown>;
  /** Or a JWKS URL to fetch it from. */
  jwksUrl?: string;
  /** Which key of the set to use; without it, the only `enc` key. */
  kid?: string;
}

interface CachedSet {
  keys: JWK[];
  fetchedAt: number;
}

/**
 * Resolves processors' encryption keys. `createRemoteJWKSet` in jose only resolves
 * verification keys, so this is a small cached fetch that picks `use: "enc"` keys by `kid`.
 * An unknown `kid` forces one refetch (the processor may have rotated), at most once per `minRefetchMs`.
 */
export class EncryptionKeyResolver {
  private readonly cache = new Map<string, CachedSet>();

  constructor(
    private readonly options: { ttlMs?: number; minRefetchMs?: number; timeoutMs?: number; now?: () => number } = {},
  ) {}

  async resolve(source: EncryptionKeySource): Promise<JWK> {
    if (source.jwk) {
      const jwk = source.jwk as JWK;
      if (!isPublicEncryptionKey(jwk)) throw keyError('the configured key is not a public encryption key');
      return jwk;
    }
    if (!source.jwksUrl) throw keyError('no encryption key or JWKS URL is configured');
    const found = pick((await this.keys(source.jwksUrl, false)).keys, source.kid);
    if (found) return found;
    const refreshed = await this.keys(source.jwksUrl, true);
    const retry = pick(refreshed.keys, source.kid);
    if (!retry) throw keyError(source.kid ? `no encryption key with kid ${source.kid}` : 'no single encryption key in the set');
    return retry;
  }

  private async keys(url: string, forceRefresh: boolean): Promise<CachedSet> {
    const now = (this.options.now ?? Date.now)();
    const cached = this.cache.get(url);
    const ttl = this.options.ttlMs ?? 10 * 60_000;
    const minRefetch = this.options.minRefetchMs ?? 30_000;
    if (cached && now - cached.fetchedAt < (forceRefresh ? minRefetch : ttl)) return cached;
    const fresh = { keys: await fetchJwks(url, this.options.timeoutMs ?? 5000), fetchedAt: now };
    this.cache.set(url, fresh);
    return fresh;
  }
}

function pick(keys: JWK[], kid: string | undefined): JWK | undefined {
  const candidates = keys.filter((k) => k.use === 'enc' && isPublicEncryptionKey(k));
  if (kid !== undefined) return candidates.find((k) => k.kid === kid);
  return candidates.length === 1 ? candidates[0] : undefined;
}

async function fetchJwks(url: string, timeoutMs: number): Promise<JWK[]> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (err) {
    throw keyError('the processor JWKS could not be fetched', err);
  }
  if (!response.ok) throw keyError(`the processor JWKS answered HTTP ${response.status}`);
  const body = (await response.json().catch(() => null)) as { keys?: unknown } | null;
  if (!body || !Array.isArray(body.keys)) throw keyError('the processor JWKS is not a key set');
  return body.keys.filter((k): k is JWK => typeof k === 'object' && k !== null);
}

function keyError(message: string, cause?: unknown): ToneguardError {
  return new ToneguardError('processor_key_unavailable', message, 502, { cause });
}
