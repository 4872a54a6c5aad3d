import { z } from 'zod';
import { jambonzSettingsSchema } from '../telephony/jambonz/settings.js';
import { plivoSettingsSchema } from '../telephony/plivo/settings.js';
import { ROLES } from '../agent/roles.js';
import { telnyxSettingsSchema } from '../telephony/telnyx/settings.js';
import { vonageSettingsSchema } from '../telephony/vonage/settings.js';
import { VERIFICATION_LEVELS } from '../verification/levels.js';
import { parseNgListen, parsePortRange } from '../telephony/sip/listen.js';

/** Asymmetric JWS algorithms only: an HMAC algorithm would let anyone holding the public JWKS mint tokens. */
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const brand = z.enum(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'maestro']);

const digitsField = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  minLength: z.int().min(1).max(32),
  maxLength: z.int().min(1).max(32),
  checkDigit: z.enum(['none', 'luhn']).default('none'),
  mask: z.enum(['tones', 'all']).default('tones'),
});

const processorName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/);

const processor = z.strictObject({
  name: processorName,
  type: z.enum(['jwe-push', 'vault', 'twilio-generic-pay']),
  url: z.url().optional(),
  /** A public JWK (as JSON) to encrypt to, or a JWKS URL to fetch it from. */
  jwk: z.record(z.string(), z.unknown()).optional(),
  jwksUrl: z.url().optional(),
  kid: z.string().optional(),
  alg: z.enum(['RSA-OAEP-256', 'ECDH-ES+A256KW']).optional(),
  timeoutMs: z.int().positive().default(5000),
  maxAttempts: z.int().min(1).max(10).default(4),
});

/**
 * Every setting, with a safe default. `config/default.json` mirrors these defaults;
 * `config/production.example.json` documents a real deployment.
 */
export const configSchema = z.strictObject({
  profile: z.enum(['development', 'production']).default('development'),
  /** Listening address; null means 127.0.0.1 in development (the dev token issuer must not face the network), 0.0.0.0 in production. */
  host: z.string().min(1).nullable().default(null),
  port: z.int().min(0).max(65535).default(8080),
  /** The URL Twilio reaches us at: TwiML stream URLs and signature checks are built from it. */
  publicUrl: z.url().default('http://localhost:8080'),
  dataDir: z.string().default('./data'),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      file: z.string().nullable().default(null),
    })
    .prefault({}),
  twilio: z
    .strictObject({
      accountSid: z.string().default(''),
      authToken: z.string().default(''),
      apiBaseUrl: z.url().default('https://api.twilio.com'),
      validateSignatures: z.boolean().default(true),
      /** Whom the agent leg dials: `client:{agent}`, a SIP URI or a number. */
      agentTarget: z.string().default('client:agent'),
      /** Caller id for the agent leg; defaults to the inbound call's `To`. */
      callerId: z.string().nullable().default(null),
      /** How long a handled CallSid is remembered (in `{dataDir}/twilio-calls.db`) so that a replayed webhook is refused. */
      handledCallRetentionDays: z.int().positive().default(30),
    })
    .prefault({}),
  /** Telnyx Call Control (enabled when apiKey, publicKey and connectionId are set). */
  telnyx: telnyxSettingsSchema,
  /** Vonage Voice API (enabled when applicationId, privateKeyFile and signatureSecret are set). */
  vonage: vonageSettingsSchema,
  /** SignalWire (Compatibility API: cXML and LaML REST). Mounted once `projectId`, `apiToken` and `signingKey` are set. */
  signalwire: z
    .strictObject({
      projectId: z.string().default(''),
      /** The API token (HTTP Basic `projectId:apiToken` on the REST API). */
      apiToken: z.string().default(''),
      /** The signing key from the Dashboard's API Credentials: what webhooks are signed with (not the API token). */
      signingKey: z.string().default(''),
      /** Your space (`https://{space}.signalwire.com`); the Compatibility REST API is under `/api/laml`. */
      spaceUrl: z.url().default('https://example.signalwire.com'),
      /** Whom the agent leg dials; null: the same target as Twilio's (`TONEGUARD_AGENT_TARGET`). */
      agentTarget: z.string().nullable().default(null),
      /** Caller id for the agent leg; defaults to the inbound call's `To`. */
      callerId: z.string().nullable().default(null),
      /** The stream codec asked for in `<Stream codec>`: PCMU at 8 kHz, or L16 at 16 kHz (needs the wideband DSP). */
      codec: z.enum(['PCMU', 'L16@16000h']).default('PCMU'),
      /** How long an answered call id is remembered (in `{dataDir}/signalwire-calls.db`). */
      handledCallRetentionDays: z.int().positive().default(30),
    })
    .prefault({}),
  plivo: plivoSettingsSchema,
  jambonz: jambonzSettingsSchema,
  dsp: z
    .strictObject({
      lookaheadMs: z.number().min(0).max(20).default(20),
      fill: z.enum(['comfort-noise', 'silence', 'beep']).default('comfort-noise'),
    })
    .prefault({}),
  media: z
    .strictObject({
      /** Neutral beep per keypress during capture: to nobody, the caller only, or both sides. */
      feedback: z.enum(['none', 'caller', 'both']).default('caller'),
      /** Frames buffered towards a slow socket before further frames are dropped. */
      maxQueuedFrames: z.int().positive().default(100),
      maxPayloadBytes: z.int().positive().default(64 * 1024),
      maxMessagesPerSecond: z.int().positive().default(400),
      /** A media socket that has not sent its stream start by then is closed. */
      startTimeoutMs: z.int().positive().default(5000),
      /** How long a leg's stream credential (issued in the TwiML) stays redeemable. */
      streamCredentialTtlMs: z.int().positive().default(30_000),
    })
    .prefault({}),
  capture: z
    .strictObject({
      firstDigitTimeoutMs: z.int().positive().default(20_000),
      interDigitTimeoutMs: z.int().positive().default(6_000),
      totalTimeoutMs: z.int().positive().default(180_000),
      maxAttempts: z.int().min(1).max(10).default(3),
      allowedBrands: z.array(brand).default(['visa', 'mastercard', 'amex', 'discover', 'jcb', 'diners', 'unionpay', 'maestro']),
      postalCodeMinLength: z.union([z.literal(5), z.literal(9)]).default(5),
      digitsFields: z.array(digitsField).default([]),
      /** The caller verification level a card capture needs before it may start (409 `verification_required`). */
      requireVerification: z.enum(VERIFICATION_LEVELS).default('none'),
    })
    .prefault({}),
  verification: z
    .strictObject({
      /** The CRM webhook answering the numbers on file for an account reference (JWS-signed POST); null turns lookups off. */
      lookupUrl: z.url().nullable().default(null),
      lookupTimeoutMs: z.int().min(100).max(30_000).default(5_000),
      /** The Twilio number one-time codes are sent from; null turns the code step off. */
      smsFrom: z.string().regex(/^\+[1-9]\d{6,14}$/).nullable().default(null),
      codeLength: z.int().min(6).max(8).default(6),
      codeTtlMs: z.int().min(30_000).max(900_000).default(300_000),
      /** Wrong entries of one code before it is void. */
      maxAttempts: z.int().min(1).max(5).default(3),
      codesPerAccountPerHour: z.int().positive().default(3),
      codesPerAgentPerHour: z.int().positive().default(20),
      lookupsPerAgentPerHour: z.int().positive().default(60),
    })
    .prefault({}),
  vault: z
    .strictObject({
      store: z.enum(['sqlite', 'memory']).default('sqlite'),
      /** Defaults to `{dataDir}/vault.db`. */
      path: z.string().nullable().default(null),
      /** Base64 256-bit key-encryption keys, newest last, as `version:base64`. Generated under dataDir in development. */
      keks: z.array(z.string()).default([]),
      kekFile: z.string().nullable().default(null),
      kek: z
        .strictObject({
          /**
           * Where the KEKs live: `env` (vault.keks, TONEGUARD_KEKS), `file` (vault.kekFile) or `pkcs11`
           * (an HSM). Unset: vault.keks if given, else vault.kekFile, else (development) generated keys.
           */
          provider: z.enum(['env', 'file', 'pkcs11']).nullable().default(null),
          /** How often a running service looks for a new KEK version (file and pkcs11 providers). */
          pollMs: z.int().min(100).default(5_000),
          pkcs11: z
            .strictObject({
              /** The vendor's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
              module: z.string().nullable().default(null),
              tokenLabel: z.string().nullable().default(null),
              /** The user PIN; prefer pinFile. */
              pin: z.string().nullable().default(null),
              pinFile: z.string().nullable().default(null),
              /** KEK versions are the token's AES keys labelled `{keyLabel}:v{N}`. */
              keyLabel: z.string().min(1).max(64).default('toneguard-kek'),
            })
            .prefault({}),
        })
        .prefault({}),
      fingerprintKey: z.string().nullable().default(null),
      cvvTtlMs: z.int().positive().default(5 * 60_000),
      tokenFormat: z.enum(['random', 'format-preserving']).default('random'),
      /** Lifetime of a token without a card expiry (a card's ends with its expiry month). */
      tokenTtlMs: z.int().positive().default(30 * 24 * 3_600_000),
      /** Same value → same token, through a keyed HMAC fingerprint (needs fingerprintKey in production). */
      convergent: z.boolean().default(false),
      /**
       * Processors that may read records stored before records were bound to their readers (an
       * older vault.db). Empty by default: such records are readable by no processor.
       */
      unboundReaders: z.array(processorName).default([]),
      /** Base64 256-bit key that encrypts `vault backup` files (TONEGUARD_BACKUP_KEY); only the CLI needs it. */
      backupKey: z.string().nullable().default(null),
      /** The disposal sweeper: expired tokens (and recordings past retention) every `intervalMs`, at most `batchSize` tokens per transaction. */
      sweep: z
        .strictObject({
          intervalMs: z.int().min(1000).default(60_000),
          batchSize: z.int().min(1).max(10_000).default(500),
        })
        .prefault({}),
    })
    .prefault({}),
  auth: z
    .strictObject({
      jwksUrl: z.url().nullable().default(null),
      issuer: z.string().default('toneguard-dev'),
      audience: z.string().default('toneguard'),
      algorithms: z.array(z.enum(JWT_ALGORITHMS)).min(1).default(['ES256', 'RS256', 'EdDSA']),
      clockToleranceSec: z.int().min(0).max(300).default(30),
      roleClaim: z.string().default('roles'),
      /** The local development issuer (`toneguard dev token`). Refused in production. */
      devIssuer: z.boolean().default(true),
      /** Roles whose tokens must carry an MFA `amr` claim (PCI 8.4.2). */
      mfaRoles: z.array(z.enum(ROLES)).default([]),
    })
    .prefault({}),
  events: z
    .strictObject({
      /** How often `WS /v1/events` sends a heartbeat and pings; a client that misses a ping is dropped. */
      heartbeatMs: z.int().min(1000).default(15_000),
      /** A client whose unsent events pass this many bytes is too slow and is dropped, so it never holds up capture. */
      maxBufferedBytes: z.int().positive().default(256 * 1024),
      /** How long a client that authenticates by its first message has to send it. */
      authTimeoutMs: z.int().positive().default(5_000),
      maxMessagesPerSecond: z.int().positive().default(20),
    })
    .prefault({}),
  processors: z.array(processor).default([]),
  detokenize: z
    .strictObject({
      /** How far ahead a processor's `private_key_jwt` assertion may set `exp`; longer-lived assertions are refused. */
      maxAssertionLifetimeSec: z.int().min(30).max(3600).default(300),
    })
    .prefault({}),
  connector: z
    .strictObject({
      /** HTTP Basic credentials Twilio's Generic Pay Connector uses to call us. */
      username: z.string().default(''),
      password: z.string().default(''),
      /** The Pay Connector's unique name in the Twilio console (a Generic Pay Connector pointing at /connectors/twilio-pay). */
      paymentConnector: z.string().default('toneguard'),
      /** Failed HTTP Basic logins one source address may make per minute; beyond that it gets 429 until the minute is over. */
      failedLoginsPerMinutePerIp: z.int().positive().default(10),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /** Defaults to `{dataDir}/audit`. */
      dir: z.string().nullable().default(null),
      hmacKey: z.string().nullable().default(null),
      rotateBytes: z.int().positive().default(50 * 1024 * 1024),
      retentionDays: z.int().positive().default(365),
      onlineDays: z.int().positive().default(90),
      alertWebhookUrl: z.url().nullable().default(null),
      /**
       * Repeated refusals (failed logins, bad signatures) of one action, source and reason: the first
       * `failureBurst` in each `failureWindowMs` are recorded one by one, the rest as one record with a `count`.
       */
      failureWindowMs: z.int().positive().default(60_000),
      failureBurst: z.int().positive().default(20),
      rules: z
        .strictObject({
          capturesPerAgentPerHour: z.int().positive().default(30),
          detokenizePerClientPerMinute: z.int().positive().default(60),
          failedValidationsPerCall: z.int().positive().default(5),
          signatureFailuresPerSourcePerMinute: z.int().positive().default(10),
          otpFailuresPerAccountPerHour: z.int().positive().default(5),
          verificationsPerAgentPerHour: z.int().positive().default(20),
          /** `HH:MM-HH:MM` in `timezone`; null means always open. */
          businessHours: z.string().regex(/^\d\d:\d\d-\d\d:\d\d$/).nullable().default(null),
          timezone: z.string().default('UTC'),
        })
        .prefault({}),
    })
    .prefault({}),
  recording: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Defaults to `{dataDir}/recordings`. */
      dir: z.string().nullable().default(null),
      /** Recordings older than this are deleted by the disposal sweeper. */
      retentionDays: z.int().positive().default(90),
    })
    .prefault({}),
  sip: z
    .strictObject({
      ng: z
        .strictObject({
          /**
           * The rtpengine ng control socket Kamailio or OpenSIPS drives, as `udp:HOST:PORT` (`udp6:` for
           * IPv6, as the modules spell it). Null keeps SIP mode off.
           */
          listen: z.string().refine((v) => parseNgListen(v) !== undefined, 'udp:IP:PORT or udp6:[IP]:PORT, e.g. udp:127.0.0.1:2223').nullable().default(null),
          /** The proxies' addresses; a message from any other address is dropped, counted and audited. Empty: loopback only. */
          allowFrom: z.array(z.union([z.ipv4(), z.ipv6()])).default([]),
          /** How long a reply stays cached for the proxy's retransmissions of the same cookie (rtpengine: 30 to 60 s). */
          replyCacheMs: z.int().min(1_000).max(600_000).default(60_000),
          replyCacheEntries: z.int().min(16).max(1_000_000).default(10_000),
        })
        .prefault({}),
      rtp: z
        .strictObject({
          /** The UDP ports RTP and RTCP use, `LOW-HIGH`; each side of a call takes an even port and the odd one above it. */
          portRange: z.string().refine((v) => parsePortRange(v) !== undefined, 'LOW-HIGH with 1024 <= LOW < HIGH <= 65535, e.g. 30000-30999').default('30000-30999'),
          /** The address written into the SDP (`c=`, `o=`) for both sides: where the endpoints send their media. */
          advertisedAddress: z.union([z.ipv4(), z.ipv6()]).default('127.0.0.1'),
          /** A call whose media stopped this long is freed with its ports (rtpengine's `--timeout`). */
          timeoutMs: z.int().min(1_000).default(60_000),
          /** An offer never answered, or a call on hold, is freed after this long without media (rtpengine's `--offer-timeout` and `--silent-timeout`). */
          silentTimeoutMs: z.int().min(1_000).default(3_600_000),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * Cluster mode: on when both `redisUrl` and `databaseUrl` are set. Shared state lives in Redis
   * (nodes, calls, capture views, commands between nodes, rate limits) and PostgreSQL (the vault,
   * the audit trail, the processor side's stores); audio never leaves the node its call is pinned to.
   */
  cluster: z
    .strictObject({
      redisUrl: z.string().min(1).nullable().default(null),
      databaseUrl: z.string().min(1).nullable().default(null),
      /** This node's stable name, unique in the cluster. */
      nodeId: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, _ . - (at most 64)')
        .nullable()
        .default(null),
      /** This node's own public URL: the media stream URLs of the calls pinned to it name it. */
      nodeUrl: z.url().nullable().default(null),
      /** The service signing key every node shares (a private JWK); a cluster node never generates one. */
      signingKeyFile: z.string().min(1).nullable().default(null),
      /** Prefix of every Redis key and channel, so that clusters (or test runs) can share one Redis. */
      redisPrefix: z.string().min(1).max(64).default('toneguard:'),
      /** How often a node renews its registration and reports its load. */
      heartbeatMs: z.int().min(100).default(1_000),
      /** A node not heard from for this long is dead: it gets no new calls and its calls may move. */
      nodeTtlMs: z.int().min(300).default(3_000),
      /** How long a command forwarded to another node may take before it fails with `node_unreachable`. */
      rpcTimeoutMs: z.int().min(50).default(2_000),
      /** How long a capture on a lost node waits for its call to reconnect before it fails with `node_lost`. */
      resumeWindowMs: z.int().min(1_000).default(30_000),
      /** PostgreSQL connections per node. */
      databasePoolSize: z.int().min(1).max(200).default(10),
    })
    .refine((c) => (c.redisUrl === null) === (c.databaseUrl === null), {
      message: 'cluster mode needs both redisUrl (TONEGUARD_REDIS_URL) and databaseUrl (TONEGUARD_DATABASE_URL)',
    })
    .prefault({}),
  incident: z
    .strictObject({
      /** How often the service re-reads `{dataDir}/incident.json` besides watching it. */
      pollMs: z.int().min(100).max(60_000).default(1000),
    })
    .prefault({}),
  http: z
    .strictObject({
      bodyLimitBytes: z.int().positive().default(64 * 1024),
      corsOrigins: z.array(z.url()).default([]),
      requestsPerMinutePerIp: z.int().positive().default(600),
      /** WebSocket upgrades per source address per minute, refused with 429 before any handler (or audit write) runs. */
      upgradesPerMinutePerIp: z.int().positive().default(600),
      /** Upgraded sockets that have not authenticated yet (events: no valid JWT; media: no accepted `start`), in all and per source address. */
      maxUnauthenticatedSockets: z.int().positive().default(512),
      maxUnauthenticatedSocketsPerIp: z.int().positive().default(64),
      captureStartsPerMinutePerAgent: z.int().positive().default(10),
      /** How long a graceful shutdown (SIGTERM) may take before remaining connections are cut. */
      shutdownTimeoutMs: z.int().positive().default(10_000),
      /** A client must finish sending its request headers within this time, or the connection is cut. */
      headersTimeoutMs: z.int().positive().default(15_000),
      /** ... and its whole request (headers and body) within this; at least `headersTimeoutMs`. */
      requestTimeoutMs: z.int().positive().default(30_000),
      keepAliveTimeoutMs: z.int().positive().default(5_000),
      /** A socket with no traffic for this long is closed. */
      idleTimeoutMs: z.int().positive().default(60_000),
      tls: z
        .strictObject({
          certFile: z.string().nullable().default(null),
          keyFile: z.string().nullable().default(null),
          /** Generate a self-signed certificate under dataDir (development only). */
          selfSigned: z.boolean().default(false),
          /** Set when a TLS-terminating proxy sits in front; required in production without cert files. */
          behindProxy: z.boolean().default(false),
        })
        .prefault({}),
    })
    .refine((http) => http.headersTimeoutMs <= http.requestTimeoutMs, { message: 'headersTimeoutMs must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ProcessorConfig = z.infer<typeof processor>;
export type DigitsFieldConfig = z.infer<typeof digitsField>;
export type CardBrand = z.infer<typeof brand>;
