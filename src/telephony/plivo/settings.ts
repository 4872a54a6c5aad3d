import { z } from 'zod';

/**
 * The `plivo` section of the configuration. Plivo is enabled when `authId` and `authToken`
 * are set (`PLIVO_AUTH_ID`, `PLIVO_AUTH_TOKEN`); `apiBaseUrl` (`PLIVO_API_BASE_URL`) lets tests
 * and the simulator stand in for Plivo's REST API.
 */
export const plivoSettingsSchema = z
  .strictObject({
    authId: z.string().default(''),
    /** Signs every webhook (X-Plivo-Signature-V3) and authenticates REST calls. */
    authToken: z.string().default(''),
    apiBaseUrl: z.url().default('https://api.plivo.com'),
    validateSignatures: z.boolean().default(true),
    /** Whom the agent's call rings: a number or a SIP URI (`sip:agent@phone.plivo.com`). */
    agentTarget: z.string().default(''),
    /** The agent identity bound to the agent leg's stream credential. */
    agentId: z.string().min(1).max(64).default('agent'),
    /** Caller ID of the agent's call; defaults to the inbound call's `To`. */
    callerId: z.string().nullable().default(null),
    /** The `<Stream contentType>`: 16 kHz L16 needs the wideband pipeline. */
    contentType: z.enum(['audio/x-mulaw;rate=8000', 'audio/x-l16;rate=8000', 'audio/x-l16;rate=16000']).default('audio/x-mulaw;rate=8000'),
    /** How long a handled CallUUID is remembered, so that a replayed webhook is refused. */
    handledCallRetentionDays: z.int().positive().default(30),
  })
  .prefault({});

export type PlivoSettings = z.infer<typeof plivoSettingsSchema>;


export const plivoEnabled = (settings: Pick<PlivoSettings, 'authId' | 'authToken'>) => settings.authId !== '' && settings.authToken !== '';
