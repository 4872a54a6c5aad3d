import { SYSTEM_ACTOR, type AuditSink } from '../audit/types.js';
import { isToneguardError } from '../errors.js';
import type { Keyring } from './keyring.js';
import { auditRotation, rewrapKeys, type RewrapResult } from './rewrap.js';
import type { TokenStore } from './store.js';

export interface RotationFollowerOptions {
  keyring: Keyring;
  store: TokenStore;
  audit: AuditSink;
  /** How often the KEK source is re-read (a live keyring only). */
  pollMs: number;
}

/**
 * Keeps a running service on the newest KEK without a restart. Re-wraps keys left under older
 * versions on start; then, for a keyring whose keys live in a file or an HSM, re-reads them every
 * `pollMs` and re-wraps again whenever a newer current version appears (one re-wrap at a time).
 * Records keep decrypting throughout: the keyring holds every version it reads.
 */
export class RotationFollower {
  private readonly stop = new AbortController();
  private readonly timer: NodeJS.Timeout | null;
  private targetVersion: number;
  private sourceFailing = false;
  /** The latest background re-wrap; its failure is audited, never an unhandled rejection. */
  private latest: Promise<RewrapResult | undefined>;
  /** The re-wrap started on open. */
  readonly initial: Promise<RewrapResult>;

  constructor(private readonly options: RotationFollowerOptions) {
    this.targetVersion = options.keyring.currentVersion;
    this.initial = this.rewrap();
    this.latest = this.initial.catch(() => undefined);
    this.timer = options.keyring.live ? setInterval(() => this.poll(), options.pollMs) : null;
    this.timer?.unref();
  }

  /** Resolves when every re-wrap started so far has finished. */
  async settled(): Promise<void> {
    let seen: Promise<unknown>;
    do {
      seen = this.latest;
      await seen;
    } while (seen !== this.latest);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stop.abort();
    await this.settled();
  }

  /** Re-reads the KEKs; a new current version (seen here or by a detokenize's reload) starts a re-wrap. */
  private poll(): void {
    const { keyring, audit } = this.options;
    try {
      keyring.reload();
      this.sourceFailing = false;
    } catch (err) {
      // Audited once when the source turns unreadable, not on every poll; the loaded keys keep working.
      if (!this.sourceFailing) {
        audit.record({ action: 'keys.reload', actor: SYSTEM_ACTOR, outcome: 'failure', details: { code: isToneguardError(err) ? err.code : 'internal_error' } });
      }
      this.sourceFailing = true;
    }
    if (keyring.currentVersion === this.targetVersion || this.stop.signal.aborted) return;
    this.targetVersion = keyring.currentVersion;
    audit.record({ action: 'keys.reload', actor: SYSTEM_ACTOR, outcome: 'success', resource: { type: 'kek', id: String(keyring.currentVersion) } });
    this.latest = this.latest.then(() => this.rewrap().catch(() => undefined));
  }

  private async rewrap(): Promise<RewrapResult> {
    const { keyring, store, audit } = this.options;
    try {
      const result = await rewrapKeys(store, keyring, { signal: this.stop.signal });
      if (result.rewrapped + result.failed > 0) auditRotation(audit, SYSTEM_ACTOR, result, null);
      return result;
    } catch (err) {
      audit.record({ action: 'keys.rotate', actor: SYSTEM_ACTOR, outcome: 'failure', details: { code: isToneguardError(err) ? err.code : 'internal_error' } });
      throw err;
    }
  }
}
