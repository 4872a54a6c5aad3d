import { z } from 'zod';

/**
 * The `jambonz` section of the configuration. jambonz is enabled when the account, its API key
 * and the webhook secret are set (`JAMBONZ_ACCOUNT_SID`, `JAMBONZ_API_KEY`,
 * `JAMBONZ_WEBHOOK_SECRET`); `apiBaseUrl` (`JAMBONZ_API_BASE_URL`) names the platform's REST API
 * (self-hosted installs have their own) and lets tests stand in for it.
 */
export const jambonzSettingsSchema = z
  .strictObject({
    accountSid: z.string().default(''),
    /** Bearer token for the REST API (placing and ending the agent's call). */
    apiKey: z.string().default(''),
    apiBaseUrl: z.url().default('https://api.jambonz.us'),
    /** The account's webhook secret: signs every webhook (`Jambonz-Signature`). */
    webhookSecret: z.string().default(''),
    validateSignatures: z.boolean().default(true),
    /** A signed webhook older (or newer) than this is refused. */
    signatureToleranceSeconds: z.int().positive().max(3600).default(300),
    /** Whom the agent's call rings: a number, `sip:…` or `user:{name}` (a registered jambonz user). */
    agentTarget: z.string().default(''),
    /** The agent identity bound to the agent leg's stream credential. */
    agentId: z.string().min(1).max(64).default('agent'),
    /** Caller ID of the agent's call; defaults to the inbound call's `to`. */
    callerId: z.string().nullable().default(null),
    /** The `listen` sample rate, both ways: 16000 needs the wideband pipeline. */
    sampleRate: z.union([z.literal(8000), z.literal(16000)]).default(8000),
    /** `bidirectionalAudio.streaming`: raw frames back (true), or base64 `playAudio` files (false, older platforms; adds delay). */
    bidirectionalStreaming: z.boolean().default(true),
    /** HTTP Basic credentials jambonz presents on the media socket (`listen.wsAuth`); the password defaults to one derived from the webhook secret. */
    wsUsername: z.string().min(1).max(64).default('toneguard'),
    wsPassword: z.string().default(''),
    /** How long a handled call_sid is remembered, so that a replayed webhook is refused. */
    handledCallRetentionDays: z.int().positive().default(30),
  })
  .prefault({});

export type JambonzSettings = z.infer<typeof jambonzSettingsSchema>;


export const jambonzEnabled = (settings: Pick<JambonzSettings, 'accountSid' | 'apiKey' | 'webhookSecret'>) =>
  settings.accountSid !== '' && settings.apiKey !== '' && settings.webhookSecret !== '';
