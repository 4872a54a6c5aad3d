import type { Actor, AuditSink } from '../audit/types.js';
import { isToneguardError } from '../errors.js';
import type { Keyring } from './keyring.js';
import type { TokenStore, WrappedRef } from './store.js';

/** Associated data binding a record's data key to its token. */
export const recordKeyAad = (token: string): string => `record:${token}`;
/** Associated data binding a subject key to its data subject. */
export const subjectKeyAad = (subjectId: string): string => `subject:${subjectId}`;

const aadOf = (ref: WrappedRef): string => (ref.table === 'subject' ? subjectKeyAad(ref.id) : recordKeyAad(ref.id));

export interface RewrapResult {
  toVersion: number;
  rewrapped: number;
  /** Keys that could not be unwrapped (unknown version, corrupt): left as they were. */
  failed: number;
}

export interface RewrapOptions {
  batchSize?: number;
  /** Stops between batches (the service is shutting down); what was done stays done. */
  signal?: AbortSignal;
}

/**
 * Re-wraps every data and subject key under the current KEK, one transaction per batch,
 * yielding between batches so a running service keeps serving. Until it finishes, old
 * versions still decrypt (the keyring keeps them); a row changed meanwhile is skipped.
 */
export async function rewrapKeys(store: TokenStore, keyring: Keyring, options: RewrapOptions = {}): Promise<RewrapResult> {
  const batchSize = options.batchSize ?? 500;
  const result: RewrapResult = { toVersion: keyring.currentVersion, rewrapped: 0, failed: 0 };
  const failed = new Set<string>();
  while (!options.signal?.aborted) {
    const refs = (await store.wrappedNotUnder(keyring.currentVersion, batchSize + failed.size)).filter((ref) => !failed.has(`${ref.table}:${ref.id}`));
    if (refs.length === 0) break;
    const changes = [];
    for (const ref of refs.slice(0, batchSize)) {
      try {
        changes.push({ ref, next: keyring.rewrap({ keyVersion: ref.keyVersion, wrapped: ref.wrappedKey }, aadOf(ref)) });
      } catch (err) {
        if (!isToneguardError(err)) throw err;
        failed.add(`${ref.table}:${ref.id}`);
      }
    }
    result.rewrapped += await store.updateWrapped(changes);
    await new Promise((resolve) => setImmediate(resolve));
  }
  result.failed = failed.size;
  return result;
}

/** The `keys.rotate` audit event for a re-wrap (and the version added, if one was). */
export function auditRotation(audit: AuditSink, actor: Actor, result: RewrapResult, addedVersion: number | null): void {
  audit.record({
    action: 'keys.rotate',
    actor,
    outcome: result.failed === 0 ? 'success' : 'failure',
    resource: { type: 'kek', id: String(result.toVersion) },
    details: { addedVersion, toVersion: result.toVersion, rewrapped: result.rewrapped, failed: result.failed },
  });
}
