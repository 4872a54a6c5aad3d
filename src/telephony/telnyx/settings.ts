import { z } from 'zod';
import { SDK_TOLERANCE_SECONDS } from './signature.js';

/** The bidirectional RTP codecs Toneguard can run (of Telnyx's PCMU, PCMA, G722, OPUS, AMR-WB, L16). */
export const TELNYX_CODECS = ['PCMU', 'PCMA', 'L16'] as const;
export type TelnyxCodec = (typeof TELNYX_CODECS)[number];

/**
 * The `telnyx` section of the configuration. The provider is enabled when `apiKey`,
 * `publicKey` and `connectionId` are set.
 */
export const telnyxSettingsSchema = z
  .strictObject({
    /** API v2 key (Mission Control → API Keys): places and hangs up calls. */
    apiKey: z.string().default(''),
    /** Base64 Ed25519 public key (Mission Control → Keys & Credentials → Public Key): verifies webhooks. */
    publicKey: z.string().default(''),
    /** The Call Control application (its "connection id") the agent's call is placed on. */
    connectionId: z.string().default(''),
    /** Where the REST client sends requests; tests and the simulator stand in for Telnyx here. */
    apiBaseUrl: z.url().default('https://api.telnyx.com'),
    /** Webhooks whose `telnyx-timestamp` is further than this from our clock are refused as replays. */
    timestampToleranceSeconds: z.int().min(1).max(SDK_TOLERANCE_SECONDS).default(SDK_TOLERANCE_SECONDS),
    /** Whom the agent's call dials: a number, `sip:` URI or credential connection. */
    agentTarget: z.string().default(''),
    /** Caller id on the agent's call; defaults to the inbound call's `to`. */
    callerId: z.string().nullable().default(null),
    /** `stream_bidirectional_codec` (and `stream_codec`): PCMU/PCMA at 8 kHz, L16 at 16 kHz. */
    codec: z.enum(TELNYX_CODECS).default('PCMU'),
    /** Byte order of L16 payloads: RFC 3551 says network order; Telnyx's documentation does not say. */
    l16ByteOrder: z.enum(['big', 'little']).default('big'),
    /** Out-of-order frames are held back at most this many frames (20 ms each) waiting for a missing one. */
    reorderWindowFrames: z.int().min(0).max(10).default(3),
    /** How long an answered call id is remembered (in `{dataDir}/telnyx-calls.db`), so that a replayed webhook is refused. */
    handledCallRetentionDays: z.int().positive().default(30),
  })
  .prefault({});

export type TelnyxSettings = z.infer<typeof telnyxSettingsSchema>;

/** Environment variables of the `telnyx` section (public contract). */
export const TELNYX_ENV: Record<string, { path: string[]; kind: 'string' }> = {
  TELNYX_API_KEY: { path: ['telnyx', 'apiKey'], kind: 'string' },
  TELNYX_PUBLIC_KEY: { path: ['telnyx', 'publicKey'], kind: 'string' },
  TELNYX_CONNECTION_ID: { path: ['telnyx', 'connectionId'], kind: 'string' },
  TELNYX_API_BASE_URL: { path: ['telnyx', 'apiBaseUrl'], kind: 'string' },
  TELNYX_AGENT_TARGET: { path: ['telnyx', 'agentTarget'], kind: 'string' },
};

export function telnyxEnabled(settings: TelnyxSettings): boolean {
  return settings.apiKey !== '' && settings.publicKey !== '' && settings.connectionId !== '';
}

/** The sample rate each codec runs at. */
export const telnyxSampleRate = (codec: TelnyxCodec): 8000 | 16000 => (codec === 'L16' ? 16000 : 8000);
