import { randomBytes } from 'node:crypto';
import { createLogger } from '../audit/logger.js';
import { parseConfig } from '../config/index.js';
import { startServer } from '../server.js';
import { randomSid, startTwilioRestStandIn } from '../telephony/twilio/simulator/index.js';
import type { ParsedArgs } from './args.js';
import { runSimulation } from './simulate-call.js';

/**
 * `toneguard demo`: the service in-process on embedded development defaults (free port,
 * `./data` unless TONEGUARD_DATA_DIR says otherwise, Twilio REST pointed at the simulator's
 * stand-in), then `simulate-call` against it.
 */
export async function demoCommand(_args: ParsedArgs): Promise<number> {
  const standIn = await startTwilioRestStandIn();
  const config = parseConfig({
    profile: 'development',
    host: '127.0.0.1',
    port: 0,
    dataDir: process.env.TONEGUARD_DATA_DIR ?? './data',
    publicUrl: 'https://toneguard.demo',
    log: { level: 'warn' },
    twilio: { accountSid: randomSid('AC'), authToken: randomBytes(16).toString('hex'), apiBaseUrl: standIn.url, agentTarget: 'client:demo-agent' },
  });
  const server = await startServer(config, { logger: createLogger({ level: 'warn', destination: process.stderr }) });
  process.stdout.write(`• Toneguard demo service on ${server.url} (development profile, data in ${config.dataDir})\n`);
  try {
    return await runSimulation({ config, baseUrl: server.url, standIn });
  } finally {
    await server.close();
    await standIn.close();
  }
}
