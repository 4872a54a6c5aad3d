import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/index.js';
import { usageError } from './args.js';
import { freePort } from '../simulator/free-port.js';

/**
 * What a development service tells `simulate-call` on the same machine: where it listens, the
 * Twilio credentials it checks signatures with, and the port its Twilio REST calls go to (where
 * the simulator's stand-in must listen). Written to `<dataDir>/dev/simulator.json`, mode 0600,
 * by `toneguard serve` in the development profile only, and removed when it stops.
 */
const settingsSchema = z.object({
  pid: z.number().int(),
  url: z.url(),
  publicUrl: z.url(),
  accountSid: z.string().min(1),
  authToken: z.string().min(1),
  apiBaseUrl: z.url(),
  standInPort: z.number().int().positive().nullable(),
  agentTarget: z.string().min(1),
});
export type SimulatorSettings = z.infer<typeof settingsSchema>;

export const simulatorSettingsPath = (dataDir: string): string => join(dataDir, 'dev', 'simulator.json');

const DEFAULT_TWILIO_API = 'https://api.twilio.com';

/** The local stand-in port the service's Twilio REST calls go to, or null when they go elsewhere. */
function localPort(apiBaseUrl: string): number | null {
  const url = new URL(apiBaseUrl);
  const local = url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
  return local && url.port ? Number(url.port) : null;
}

/**
 * Development profile, no Twilio account configured: the service gets generated development
 * credentials and sends its Twilio REST calls to a local port, so `simulate-call` can play
 * Twilio against it with no setup. Anything configured is kept; production is never touched.
 */
export async function withSimulatorDefaults(config: Config): Promise<Config> {
  if (config.profile !== 'development' || (config.twilio.accountSid && config.twilio.authToken)) return config;
  const apiBaseUrl = config.twilio.apiBaseUrl.replace(/\/$/, '') === DEFAULT_TWILIO_API ? `http://127.0.0.1:${await freePort()}` : config.twilio.apiBaseUrl;
  return {
    ...config,
    twilio: { ...config.twilio, accountSid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex'), apiBaseUrl },
  };
}

/** Publishes the running development service's simulator settings; returns how to withdraw them. */
export function publishSimulatorSettings(config: Config, url: string): () => void {
  if (config.profile !== 'development' || !config.twilio.accountSid || !config.twilio.authToken) return () => {};
  const file = simulatorSettingsPath(config.dataDir);
  const settings: SimulatorSettings = {
    pid: process.pid,
    url,
    publicUrl: config.publicUrl,
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.authToken,
    apiBaseUrl: config.twilio.apiBaseUrl,
    standInPort: localPort(config.twilio.apiBaseUrl),
    agentTarget: config.twilio.agentTarget,
  };
  mkdirSync(join(config.dataDir, 'dev'), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return () => rmSync(file, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The settings a live development service published in `dataDir`, or undefined when there are none. Throws one clear sentence when they are unusable. */
export function readSimulatorSettings(dataDir: string): SimulatorSettings | undefined {
  const file = simulatorSettingsPath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  let parsed: ReturnType<typeof settingsSchema.safeParse>;
  try {
    parsed = settingsSchema.safeParse(JSON.parse(text));
  } catch {
    parsed = settingsSchema.safeParse(undefined);
  }
  if (!parsed.success) throw usageError(`simulate-call: ${file} is not a simulator settings file written by toneguard serve; delete it and restart the development service`);
  const settings = parsed.data;
  if (!processAlive(settings.pid)) throw usageError(`simulate-call: the development service that wrote ${file} (pid ${settings.pid}) is no longer running; start it again with toneguard serve`);
  if (settings.standInPort === null) {
    throw usageError(`simulate-call: the development service sends its Twilio REST calls to ${settings.apiBaseUrl}, not to a local stand-in; restart it without TWILIO_API_BASE_URL (or with http://127.0.0.1:PORT)`);
  }
  return settings;
}

/** The configuration `simulate-call` acts with: the published settings over the local configuration. */
export function configWithSettings(config: Config, settings: SimulatorSettings): Config {
  return {
    ...config,
    publicUrl: settings.publicUrl,
    twilio: { ...config.twilio, accountSid: settings.accountSid, authToken: settings.authToken, apiBaseUrl: settings.apiBaseUrl, agentTarget: settings.agentTarget },
  };
}
