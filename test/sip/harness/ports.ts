import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';

/** Ports for one harness run: other test files (and other people's tests) share this machine. */

async function bindUdp(port: number): Promise<Socket | undefined> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => resolve(undefined));
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

const release = (socket: Socket): Promise<void> => new Promise((resolve) => socket.close(() => resolve()));

/** A UDP port on 127.0.0.1 that was free a moment ago (bound to 0, then released). */
export async function freeUdpPort(): Promise<number> {
  const socket = (await bindUdp(0))!;
  const { port } = socket.address();
  await release(socket);
  return port;
}

/** A free port whose port + 2 is free too: SIPp's `-mp` binds both (audio and video). */
export async function freeMediaPort(): Promise<number> {
  for (;;) {
    const first = (await bindUdp(0))!;
    const port = first.address().port;
    const second = port < 65533 ? await bindUdp(port + 2) : undefined;
    await release(first);
    if (second) {
      await release(second);
      return port;
    }
  }
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
