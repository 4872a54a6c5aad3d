import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';

/** Ports for one harness run: other test files (and other people's tests) share this machine. */

/** A UDP port on 127.0.0.1 that was free a moment ago (bound to 0, then released). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Several distinct free UDP ports. */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeUdpPort());
  return [...ports];
}

/**
 * An even-aligned block of `size` ports for a relay's RTP range, drawn at random below the
 * kernel's ephemeral range (32768+) so that other sockets rarely land in it; relays skip a
 * taken port anyway.
 */
export function rtpPortRange(size: number): { min: number; max: number } {
  const blocks = Math.floor((32000 - 20000) / size);
  const min = 20000 + randomInt(blocks) * size;
  return { min, max: min + size - 1 };
}
