import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The query parameter naming the leg in the stream URL, so that the upgrade can be checked before any frame. */
export const STREAM_CALL_PARAM = 'call';

/**
 * Per-leg upgrade tokens for Telnyx media sockets: Toneguard sets `stream_auth_token` to
 * HMAC(key, call control id) and names the leg in the stream URL; Telnyx sends the token back as
 * `x-telnyx-streaming-auth-token` on the upgrade. Only Telnyx (which received it over the API's
 * TLS) and Toneguard know it. The key is `upgradeTokenKey`'s: random per process on a single
 * node, shared by every node of a cluster.
 */
export class TelnyxStreamTokens {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  tokenFor(callControlId: string): string {
    return createHmac('sha256', this.key).update(`telnyx-stream:${callControlId}`).digest('base64url');
  }

  verify(callControlId: string | undefined, presented: string | undefined): boolean {
    if (!callControlId || !presented) return false;
    const given = Buffer.from(presented);
    const expected = Buffer.from(this.tokenFor(callControlId));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/** `wss://…/media/telnyx?call={id}` on the media node's base URL. */
export function telnyxStreamUrl(mediaUrl: string, path: string, callControlId: string): string {
  const base = mediaUrl.replace(/\/$/, '').replace(/^http/, 'ws');
  return `${base}${path}?${STREAM_CALL_PARAM}=${encodeURIComponent(callControlId)}`;
}
