import { z } from 'zod';

/** `content-type` of the websocket endpoint: linear 16-bit PCM at 8 or 16 kHz. */
export const VONAGE_RATES = [8000, 16000] as const;
export type VonageRate = (typeof VONAGE_RATES)[number];

/**
 * The `vonage` section of the configuration. The provider is enabled when `applicationId`,
 * `privateKeyFile` and `signatureSecret` are set.
 */
export const vonageSettingsSchema = z
  .strictObject({
    /** The Voice application (Dashboard → Applications): its id signs our REST calls… */
    applicationId: z.string().default(''),
    /** …with its private key (PEM file), generated with the application. */
    privateKeyFile: z.string().default(''),
    /** The account's signature secret (Dashboard → Settings): verifies signed webhooks and the media upgrade's JWT. */
    signatureSecret: z.string().default(''),
    /** When set, a webhook JWT must carry this `api_key` claim (the account the secret belongs to). */
    apiKey: z.string().default(''),
    /** Where the REST client sends requests; tests and the simulator stand in for Vonage here. */
    apiBaseUrl: z.url().default('https://api.nexmo.com'),
    /** A webhook JWT issued (`iat`) further than this from our clock is refused as a replay. */
    maxTokenAgeSeconds: z.int().min(1).max(3600).default(300),
    /** Whom the agent's call dials: a number (`447700900000`), `sip:…` or `app:{user}`. */
    agentTarget: z.string().default(''),
    /** The Vonage number the agent's call comes from; defaults to the number the caller dialled. */
    callerId: z.string().nullable().default(null),
    /** `audio/l16;rate=…` for both legs' websockets. */
    sampleRate: z.union([z.literal(8000), z.literal(16000)]).default(8000),
    /** How long an answered call id is remembered (in `{dataDir}/vonage-calls.db`), so that a replayed webhook is refused. */
    handledCallRetentionDays: z.int().positive().default(30),
  })
  .prefault({});

export type VonageSettings = z.infer<typeof vonageSettingsSchema>;

/** Environment variables of the `vonage` section (public contract). */
export const VONAGE_ENV: Record<string, { path: string[]; kind: 'string' }> = {
  VONAGE_APPLICATION_ID: { path: ['vonage', 'applicationId'], kind: 'string' },
  VONAGE_PRIVATE_KEY_FILE: { path: ['vonage', 'privateKeyFile'], kind: 'string' },
  VONAGE_SIGNATURE_SECRET: { path: ['vonage', 'signatureSecret'], kind: 'string' },
  VONAGE_API_KEY: { path: ['vonage', 'apiKey'], kind: 'string' },
  VONAGE_API_BASE_URL: { path: ['vonage', 'apiBaseUrl'], kind: 'string' },
  VONAGE_AGENT_TARGET: { path: ['vonage', 'agentTarget'], kind: 'string' },
};

export function vonageEnabled(settings: VonageSettings): boolean {
  return settings.applicationId !== '' && settings.privateKeyFile !== '' && settings.signatureSecret !== '';
}

export const vonageContentType = (rate: VonageRate) => `audio/l16;rate=${rate}`;
