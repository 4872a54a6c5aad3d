import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { startDaemon } from './proc.js';
import { freeUdpPort, rtpPortRange } from './ports.js';

/** A media relay the proxy's rtpengine module drives over ng: Sipwise rtpengine, or Toneguard. */
export interface Relay {
  readonly kind: 'rtpengine' | 'toneguard';
  /** What Kamailio's `rtpengine_sock` points at, e.g. `udp:127.0.0.1:2223`. */
  readonly ngSocket: string;
  /** The process whose CPU the bench measures. */
  readonly pid: number;
  log(): string;
  stop(): Promise<void>;
}

/** Sends one ng `ping` and resolves true on `pong` within `timeoutMs`. */
export async function ngPing(port: number, timeoutMs = 300): Promise<boolean> {
  const socket = createSocket('udp4');
  const cookie = randomBytes(6).toString('hex');
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      socket.on('message', (msg) => {
        if (msg.toString('latin1').startsWith(`${cookie} `) && msg.includes('pong')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      socket.on('error', () => resolve(false));
      // A literal bencoded {"command":"ping"}: the one message the harness writes itself.
      socket.send(`${cookie} d7:command4:pinge`, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

/** Waits until the relay answers ng pings; `relay.exited` (a child process) ends the wait early. */
export async function waitForNg(port: number, relay: { name: string; log(): string; exited?: Promise<unknown> }, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void relay.exited?.then(() => (dead = true));
  while (Date.now() < deadline && !dead) {
    if (await ngPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${relay.name} did not answer an ng ping on udp:127.0.0.1:${port}${dead ? ' (it exited)' : ''}:\n${relay.log().slice(-3000)}`);
}

/**
 * Sipwise rtpengine in userspace (`--table=-1`, no kernel module), on loopback, with no
 * configuration file and a short per-run port range.
 */
export async function startRtpengine(dir: string, options: { ports?: number } = {}): Promise<Relay> {
  const ngPort = await freeUdpPort();
  const range = rtpPortRange(options.ports ?? 200);
  const daemon = startDaemon('rtpengine', 'rtpengine', [
    '--config-file=none',
    '--table=-1',
    '--foreground',
    '--log-stderr',
    '--log-level=5', '--log-level-control=7',
    '--interface=127.0.0.1',
    `--listen-ng=127.0.0.1:${ngPort}`,
    `--port-min=${range.min}`,
    `--port-max=${range.max}`,
    '--delete-delay=0',
    '--timeout=30',
  ], dir);
  await waitForNg(ngPort, daemon);
  return { kind: 'rtpengine', ngSocket: `udp:127.0.0.1:${ngPort}`, pid: daemon.pid, log: daemon.log, stop: () => daemon.stop() };
}
