import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ToneguardError } from '../errors.js';
import { TELNYX_ENV } from '../telephony/telnyx/settings.js';
import { VONAGE_ENV } from '../telephony/vonage/settings.js';
import { configSchema, type Config } from './schema.js';

type Json = Record<string, unknown>;

/** Environment variables and where each lands in the configuration. Names are part of the public contract. */
const ENV_PATHS: Record<string, { path: string[]; kind: 'string' | 'int' | 'bool' | 'list' }> = {
  TONEGUARD_PROFILE: { path: ['profile'], kind: 'string' },
  TONEGUARD_HOST: { path: ['host'], kind: 'string' },
  TONEGUARD_PORT: { path: ['port'], kind: 'int' },
  TONEGUARD_PUBLIC_URL: { path: ['publicUrl'], kind: 'string' },
  TONEGUARD_DATA_DIR: { path: ['dataDir'], kind: 'string' },
  TONEGUARD_LOG_LEVEL: { path: ['log', 'level'], kind: 'string' },
  TONEGUARD_LOG_FILE: { path: ['log', 'file'], kind: 'string' },
  TWILIO_ACCOUNT_SID: { path: ['twilio', 'accountSid'], kind: 'string' },
  TWILIO_AUTH_TOKEN: { path: ['twilio', 'authToken'], kind: 'string' },
  TWILIO_API_BASE_URL: { path: ['twilio', 'apiBaseUrl'], kind: 'string' },
  TONEGUARD_AGENT_TARGET: { path: ['twilio', 'agentTarget'], kind: 'string' },
  SIGNALWIRE_PROJECT_ID: { path: ['signalwire', 'projectId'], kind: 'string' },
  SIGNALWIRE_API_TOKEN: { path: ['signalwire', 'apiToken'], kind: 'string' },
  SIGNALWIRE_SIGNING_KEY: { path: ['signalwire', 'signingKey'], kind: 'string' },
  SIGNALWIRE_SPACE_URL: { path: ['signalwire', 'spaceUrl'], kind: 'string' },
  TONEGUARD_VALIDATE_SIGNATURES: { path: ['twilio', 'validateSignatures'], kind: 'bool' },
  TONEGUARD_LOOKAHEAD_MS: { path: ['dsp', 'lookaheadMs'], kind: 'int' },
  TONEGUARD_VAULT_STORE: { path: ['vault', 'store'], kind: 'string' },
  TONEGUARD_KEKS: { path: ['vault', 'keks'], kind: 'list' },
  TONEGUARD_KEK_FILE: { path: ['vault', 'kekFile'], kind: 'string' },
  TONEGUARD_FINGERPRINT_KEY: { path: ['vault', 'fingerprintKey'], kind: 'string' },
  TONEGUARD_BACKUP_KEY: { path: ['vault', 'backupKey'], kind: 'string' },
  TONEGUARD_KEK_PROVIDER: { path: ['vault', 'kek', 'provider'], kind: 'string' },
  TONEGUARD_PKCS11_MODULE: { path: ['vault', 'kek', 'pkcs11', 'module'], kind: 'string' },
  TONEGUARD_PKCS11_TOKEN_LABEL: { path: ['vault', 'kek', 'pkcs11', 'tokenLabel'], kind: 'string' },
  TONEGUARD_PKCS11_PIN: { path: ['vault', 'kek', 'pkcs11', 'pin'], kind: 'string' },
  TONEGUARD_PKCS11_PIN_FILE: { path: ['vault', 'kek', 'pkcs11', 'pinFile'], kind: 'string' },
  TONEGUARD_PKCS11_KEY_LABEL: { path: ['vault', 'kek', 'pkcs11', 'keyLabel'], kind: 'string' },
  TONEGUARD_JWKS_URL: { path: ['auth', 'jwksUrl'], kind: 'string' },
  TONEGUARD_JWT_ISSUER: { path: ['auth', 'issuer'], kind: 'string' },
  TONEGUARD_JWT_AUDIENCE: { path: ['auth', 'audience'], kind: 'string' },
  TONEGUARD_DEV_ISSUER: { path: ['auth', 'devIssuer'], kind: 'bool' },
  TONEGUARD_CONNECTOR_USERNAME: { path: ['connector', 'username'], kind: 'string' },
  TONEGUARD_CONNECTOR_PASSWORD: { path: ['connector', 'password'], kind: 'string' },
  TONEGUARD_AUDIT_HMAC_KEY: { path: ['audit', 'hmacKey'], kind: 'string' },
  TONEGUARD_ALERT_WEBHOOK_URL: { path: ['audit', 'alertWebhookUrl'], kind: 'string' },
  TONEGUARD_VERIFICATION_LOOKUP_URL: { path: ['verification', 'lookupUrl'], kind: 'string' },
  TONEGUARD_VERIFICATION_SMS_FROM: { path: ['verification', 'smsFrom'], kind: 'string' },
  TONEGUARD_TLS_CERT_FILE: { path: ['http', 'tls', 'certFile'], kind: 'string' },
  TONEGUARD_TLS_KEY_FILE: { path: ['http', 'tls', 'keyFile'], kind: 'string' },
  TONEGUARD_TLS_SELF_SIGNED: { path: ['http', 'tls', 'selfSigned'], kind: 'bool' },
  TONEGUARD_BEHIND_TLS_PROXY: { path: ['http', 'tls', 'behindProxy'], kind: 'bool' },
  TONEGUARD_CORS_ORIGINS: { path: ['http', 'corsOrigins'], kind: 'list' },
  TONEGUARD_NG_LISTEN: { path: ['sip', 'ng', 'listen'], kind: 'string' },
  TONEGUARD_NG_ALLOW_FROM: { path: ['sip', 'ng', 'allowFrom'], kind: 'list' },
  TONEGUARD_RTP_PORTS: { path: ['sip', 'rtp', 'portRange'], kind: 'string' },
  TONEGUARD_RTP_ADDRESS: { path: ['sip', 'rtp', 'advertisedAddress'], kind: 'string' },
  TONEGUARD_RTP_TIMEOUT_MS: { path: ['sip', 'rtp', 'timeoutMs'], kind: 'int' },
  TONEGUARD_REDIS_URL: { path: ['cluster', 'redisUrl'], kind: 'string' },
  TONEGUARD_DATABASE_URL: { path: ['cluster', 'databaseUrl'], kind: 'string' },
  TONEGUARD_NODE_ID: { path: ['cluster', 'nodeId'], kind: 'string' },
  TONEGUARD_NODE_URL: { path: ['cluster', 'nodeUrl'], kind: 'string' },
  TONEGUARD_SIGNING_KEY_FILE: { path: ['cluster', 'signingKeyFile'], kind: 'string' },
  TONEGUARD_REDIS_PREFIX: { path: ['cluster', 'redisPrefix'], kind: 'string' },
  PLIVO_AUTH_ID: { path: ['plivo', 'authId'], kind: 'string' },
  PLIVO_AUTH_TOKEN: { path: ['plivo', 'authToken'], kind: 'string' },
  PLIVO_API_BASE_URL: { path: ['plivo', 'apiBaseUrl'], kind: 'string' },
  PLIVO_AGENT_TARGET: { path: ['plivo', 'agentTarget'], kind: 'string' },
  JAMBONZ_ACCOUNT_SID: { path: ['jambonz', 'accountSid'], kind: 'string' },
  JAMBONZ_API_KEY: { path: ['jambonz', 'apiKey'], kind: 'string' },
  JAMBONZ_API_BASE_URL: { path: ['jambonz', 'apiBaseUrl'], kind: 'string' },
  JAMBONZ_WEBHOOK_SECRET: { path: ['jambonz', 'webhookSecret'], kind: 'string' },
  JAMBONZ_AGENT_TARGET: { path: ['jambonz', 'agentTarget'], kind: 'string' },
  ...TELNYX_ENV,
  ...VONAGE_ENV,
};

export interface LoadConfigOptions {
  /** Folder holding default.json; defaults to `./config`. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last, over files and environment: for tests and embedding. */
  overrides?: Json;
}

/**
 * Builds the configuration: `config/default.json`, then `config/{profile}.json` if present,
 * then the file named by `TONEGUARD_CONFIG`, then `TONEGUARD_*` variables, then overrides.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const configDir = resolve(options.configDir ?? 'config');
  let merged: Json = readJsonIfPresent(resolve(configDir, 'default.json')) ?? {};
  const fromEnv = envLayer(env);
  const profile = (options.overrides?.profile ?? fromEnv.profile ?? merged.profile ?? 'development') as string;
  merged = deepMerge(merged, readJsonIfPresent(resolve(configDir, `${profile}.json`)) ?? {});
  if (env.TONEGUARD_CONFIG) {
    const extra = readJsonIfPresent(resolve(env.TONEGUARD_CONFIG));
    if (!extra) throw new ToneguardError('config_missing_file', `TONEGUARD_CONFIG names a file that does not exist: ${env.TONEGUARD_CONFIG}`);
    merged = deepMerge(merged, extra);
  }
  merged = deepMerge(merged, fromEnv);
  merged = deepMerge(merged, options.overrides ?? {});
  return parseConfig(merged);
}

export function parseConfig(input: unknown): Config {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ToneguardError('config_invalid', `invalid configuration: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  }
  return parsed.data;
}

function envLayer(env: NodeJS.ProcessEnv): Json {
  const layer: Json = {};
  for (const [name, spec] of Object.entries(ENV_PATHS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(layer, spec.path, coerce(name, raw, spec.kind));
  }
  return layer;
}

function coerce(name: string, raw: string, kind: 'string' | 'int' | 'bool' | 'list'): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter(Boolean);
    case 'int': {
      if (!/^\d+$/.test(raw)) throw new ToneguardError('config_invalid', `${name} must be a whole number`);
      return Number(raw);
    }
    case 'bool': {
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ToneguardError('config_invalid', `${name} must be true or false`);
    }
  }
}

function setPath(target: Json, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Json;
  }
  node[path[path.length - 1]] = value;
}

function readJsonIfPresent(file: string): Json | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    throw new ToneguardError('config_invalid', `configuration file is not valid JSON: ${file}`);
  }
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key] as Json, value) : value;
  }
  return out;
}
