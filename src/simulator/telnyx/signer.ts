import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: the raw 32-byte key follows it. */
const SPKI_PREFIX_BYTES = 12;

/**
 * Signs webhooks as Telnyx does: Ed25519 over `${timestamp}|${body}`, base64 in
 * `telnyx-signature-ed25519`, Unix seconds in `telnyx-timestamp`. The key pair is made here;
 * its public half is what Mission Control would show (base64 of the raw 32 bytes).
 */
export class TelnyxSigner {
  readonly publicKey: string;
  private readonly privateKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_BYTES).toString('base64');
  }

  headers(body: string, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
    const timestamp = String(timestampSeconds);
    return {
      'telnyx-timestamp': timestamp,
      'telnyx-signature-ed25519': sign(null, Buffer.from(`${timestamp}|${body}`), this.privateKey).toString('base64'),
    };
  }
}
