import { createSocket } from 'node:dgram';
import { resolve } from 'node:path';
import { freeUdpPort } from './ports.js';
import { startDaemon, type Daemon } from './proc.js';

/** The Kamailio configuration docs/sip.md shows; the harness runs this very file. */
export const KAMAILIO_CFG = resolve(import.meta.dirname, '../../../config/sip/kamailio.cfg');

export interface Proxy {
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

/** True once Kamailio answers a SIP request on `port` (any response will do). */
async function answersSip(port: number, timeoutMs = 300): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<boolean>((done) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      socket.on('message', (msg) => {
        if (msg.toString('latin1').startsWith('SIP/2.0 ')) {
          clearTimeout(timer);
          done(true);
        }
      });
      socket.on('error', () => done(false));
      socket.bind(0, '127.0.0.1', () => {
        const local = socket.address().port;
        const branch = `z9hG4bK-probe-${Date.now()}`;
        const request = [
          `OPTIONS sip:probe@127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch};rport`,
          'Max-Forwards: 70',
          `From: <sip:probe@127.0.0.1:${local}>;tag=probe`,
          `To: <sip:probe@127.0.0.1:${port}>`,
          `Call-ID: probe-${branch}`,
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        socket.send(request, port, '127.0.0.1');
      });
    });
  } finally {
    socket.close();
  }
}

/**
 * Kamailio in the foreground on a free loopback port, as the current user, relaying every INVITE
 * to `pbxUri` with `relay` (an `rtpengine_sock` value) as its media relay.
 */
export async function startKamailio(dir: string, options: { relaySocket: string; pbxUri: string; children?: number; defines?: string[] }): Promise<Proxy> {
  const port = await freeUdpPort();
  const daemon: Daemon = startDaemon('kamailio', 'kamailio', [
    '-f', KAMAILIO_CFG,
    '-DD', '-E',
    '-l', `udp:127.0.0.1:${port}`,
    '-m', '64', '-M', '8',
    '-P', resolve(dir, 'kamailio.pid'),
    '-Y', dir,
    '-w', dir,
    '-A', `RELAY_SOCK="${options.relaySocket}"`,
    '-A', `PBX_URI="${options.pbxUri}"`,
    '-A', `CHILDREN=${options.children ?? 2}`,
    ...(options.defines ?? []).flatMap((d) => ['-A', d]),
  ], dir);
  const deadline = Date.now() + 15_000;
  let dead = false;
  void daemon.exited.then(() => (dead = true));
  while (!(await answersSip(port))) {
    if (dead || Date.now() > deadline) throw new Error(`kamailio did not start on udp:127.0.0.1:${port}:\n${daemon.log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, log: daemon.log, stop: () => daemon.stop() };
}
