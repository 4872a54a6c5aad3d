import { randomBytes } from 'node:crypto';
import type { Actor } from '../../src/audit/types.js';
import type { CaptureResult, TokenizeRequest } from '../../src/capture/types.js';
import { detectBrand } from '../../src/capture/brands.js';
import { ToneguardError } from '../../src/errors.js';
import type { DetokenizedRecord, TokenInfo, TokenizeValuesRequest, Vault } from '../../src/vault/types.js';

interface Stored {
  info: TokenInfo;
  fields: Record<string, string>;
  cvv?: string;
}

/**
 * An in-memory vault with the binding contract's behaviour (one-time CVV, zeroed inputs),
 * standing in until `src/vault` lands. It records every actor that read a token.
 */
export class StandInVault implements Vault {
  readonly records = new Map<string, Stored>();
  readonly reads: { token: string; actor: Actor; includeCvv: boolean }[] = [];

  async tokenize(request: TokenizeRequest): Promise<CaptureResult> {
    const values: Record<string, string> = {};
    for (const [name, bytes] of request.values) {
      values[name] = Buffer.from(bytes).toString('ascii');
      bytes.fill(0);
    }
    const info = this.store(values, request.subjectId);
    return { token: info.token, ...(info.brand ? { brand: info.brand } : {}), ...(info.last4 ? { last4: info.last4 } : {}), expiresAt: info.expiresAt };
  }

  async tokenizeValues(request: TokenizeValuesRequest): Promise<TokenInfo> {
    return this.store({ ...request.values }, request.subjectId);
  }

  async info(token: string): Promise<TokenInfo | undefined> {
    return this.records.get(token)?.info;
  }

  async detokenize(token: string, options: { actor: Actor; includeCvv?: boolean }): Promise<DetokenizedRecord> {
    const record = this.records.get(token);
    this.reads.push({ token, actor: options.actor, includeCvv: options.includeCvv ?? false });
    if (!record) throw new ToneguardError('token_not_found', 'no such token', 404);
    const cvv = options.includeCvv ? record.cvv : undefined;
    if (cvv !== undefined) delete record.cvv;
    return { info: record.info, fields: { ...record.fields }, ...(cvv !== undefined ? { cvv } : {}) };
  }

  async delete(token: string): Promise<boolean> {
    return this.records.delete(token);
  }

  async shredSubject(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {}

  private store(values: Record<string, string>, subjectId?: string): TokenInfo {
    const { cvv, ...fields } = values;
    const pan = fields.card_number;
    const token = `tok_${randomBytes(12).toString('hex')}`;
    const info: TokenInfo = {
      token,
      kind: pan ? 'card' : fields.account_number ? 'bank' : 'generic',
      ...(pan ? { brand: detectBrand(pan) ?? 'unknown', last4: pan.slice(-4), bin: pan.slice(0, 6) } : {}),
      ...(subjectId ? { subjectId } : {}),
      keyVersion: 1,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    };
    this.records.set(token, { info, fields, ...(cvv !== undefined ? { cvv } : {}) });
    return info;
  }
}
