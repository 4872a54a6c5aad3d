import { join } from 'node:path';
import type { Actor } from '../audit/types.js';
import type { Logger } from '../audit/logger.js';
import type { CaptureResult, TokenizeRequest, Tokenizer } from '../capture/types.js';
import type { ProcessorConfig } from '../config/index.js';
import { ToneguardError } from '../errors.js';
import { canonicalReaders } from '../vault/binding.js';
import type { TokenInfo, TokenizeValuesRequest, Vault } from '../vault/types.js';
import { DeadLetterLog } from './dead-letters.js';
import { EncryptionKeyResolver } from './encryption-keys.js';
import { JwePushConnector } from './jwe-push.js';
import { PROCESSOR_CAPABILITIES, recordPayload, type ServiceSigner } from './types.js';

/** The actor the hand-off reads the vault as: the one-time CVV read is audited under it. */
export const HANDOFF_ACTOR: Actor = Object.freeze({ type: 'system', id: 'processor-handoff', roles: ['processor'] });

export interface HandoffOptions {
  vault: Vault;
  processors: readonly ProcessorConfig[];
  /** Which `jwe-push` processor receives captures; defaults to the first one configured. */
  processorName?: string;
  signer: ServiceSigner;
  /** Our public URL: the issuer of push requests. */
  issuer: string;
  dataDir: string;
  logger: Logger;
  keys?: EncryptionKeyResolver;
  backoffMs?: (attempt: number) => number;
}

/** The tokenizer capture sessions call, plus the same hand-off for values that arrive as strings (Generic Pay Connector). */
export interface HandoffTokenizer extends Tokenizer {
  tokenizeValues(request: TokenizeValuesRequest): Promise<CaptureResult>;
  /** The push processor in use, if any. */
  readonly processor: string | null;
  /** The processors every new record is bound to: the push processor and each `vault` (pull) processor. */
  readonly readers: readonly string[];
}

/**
 * Wraps the vault: tokenize first (so our token exists whatever happens next), bound to the
 * processors this deployment hands captures to; then, for a `jwe-push` processor, read the
 * record back once with its one-time CVV and push it. The processor's token becomes the
 * result's `token` and ours `vaultToken`.
 */
export function createHandoffTokenizer(options: HandoffOptions): HandoffTokenizer {
  const connector = pushConnector(options);
  const { vault } = options;
  const readers = recordReaders(options.processors, connector?.name);

  async function handOff(info: TokenInfo, reference: string): Promise<CaptureResult> {
    const ours = toResult(info);
    if (!connector) return ours;
    const record = await vault.detokenize(info.token, { actor: HANDOFF_ACTOR, processor: connector.name, includeCvv: true });
    const receipt = await connector.push({ reference, vaultToken: info.token, ...recordPayload(record) });
    return { ...ours, token: receipt.token, vaultToken: info.token };
  }

  return {
    processor: connector?.name ?? null,
    readers,
    async tokenize(request: TokenizeRequest): Promise<CaptureResult> {
      const result = await vault.tokenize({ ...request, readers });
      const info = await vault.info(result.token);
      if (!info) throw new ToneguardError('token_not_found', 'the new token could not be read back', 500);
      return handOff(info, request.captureId);
    },
    async tokenizeValues(request: TokenizeValuesRequest): Promise<CaptureResult> {
      return handOff(await vault.tokenizeValues({ ...request, readers }), request.reference);
    },
  };
}

/**
 * Who may read a capture back: the push processor it is delivered to (which may also pull it
 * through detokenize, for reconciliation) and every configured `vault` processor. Enrolment
 * only proves who a processor is; this configured list says what it may read.
 */
export function recordReaders(processors: readonly ProcessorConfig[], pushProcessor: string | undefined): string[] {
  const pullers = processors.filter((p) => p.type === 'vault').map((p) => p.name);
  return canonicalReaders(pushProcessor ? [pushProcessor, ...pullers] : pullers);
}

function pushConnector(options: HandoffOptions): JwePushConnector | undefined {
  const pushers = options.processors.filter((p) => PROCESSOR_CAPABILITIES[p.type].pushedOnCompletion);
  const chosen = options.processorName ? pushers.find((p) => p.name === options.processorName) : pushers[0];
  if (options.processorName && !chosen) {
    throw new ToneguardError('processor_misconfigured', `no jwe-push processor named ${options.processorName}`, 500);
  }
  if (!chosen) return undefined;
  return new JwePushConnector({
    processor: chosen,
    signer: options.signer,
    issuer: options.issuer,
    keys: options.keys ?? new EncryptionKeyResolver(),
    deadLetters: new DeadLetterLog(join(options.dataDir, 'processors', 'dead-letters.jsonl')),
    logger: options.logger,
    ...(options.backoffMs ? { backoffMs: options.backoffMs } : {}),
  });
}

function toResult(info: TokenInfo): CaptureResult {
  return {
    token: info.token,
    ...(info.brand ? { brand: info.brand } : {}),
    ...(info.last4 ? { last4: info.last4 } : {}),
    expiresAt: info.expiresAt,
  };
}
