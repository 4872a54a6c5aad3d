import bencode from 'bencode';
import { createSocket, type Socket } from 'node:dgram';

/** A UDP client speaking ng as the proxies' modules do: one socket, replies matched by cookie. */
export class NgClient {
  private readonly socket: Socket;
  private readonly waiting = new Map<string, Array<(reply: Buffer) => void>>();
  readonly received: Buffer[] = [];

  private constructor(
    private readonly port: number,
    private readonly host: string,
  ) {
    this.socket = createSocket('udp4');
    this.socket.on('message', (message: Buffer) => {
      this.received.push(message);
      const cookie = message.toString('latin1', 0, Math.max(0, message.indexOf(0x20)));
      for (const resolve of this.waiting.get(cookie) ?? []) resolve(message);
      this.waiting.delete(cookie);
    });
  }

  static async open(port: number, host = '127.0.0.1', bindAddress = '127.0.0.1'): Promise<NgClient> {
    const client = new NgClient(port, host);
    await new Promise<void>((resolve) => client.socket.bind(0, bindAddress, () => resolve()));
    return client;
  }

  /**
   * Sends raw bytes; resolves with the reply to `cookie`, or undefined after `timeoutMs`. With
   * `retransmissions`, sends the same bytes again each `timeoutMs` without a reply, as the modules
   * do (`rtpengine_retr`): UDP may lose a datagram under load.
   */
  async sendRaw(bytes: Buffer, cookie: string, timeoutMs = 2_000, retransmissions = 0): Promise<Buffer | undefined> {
    for (let attempt = 0; attempt <= retransmissions; attempt++) {
      const reply = await new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), timeoutMs);
        const list = this.waiting.get(cookie) ?? [];
        list.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
        this.waiting.set(cookie, list);
        this.socket.send(bytes, this.port, this.host);
      });
      if (reply) return reply;
    }
    return undefined;
  }

  /** Sends `<cookie> <bencoded dict>` and decodes the reply's dictionary (strings as text). */
  async command(cookie: string, dict: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown> | undefined> {
    const reply = await this.sendRaw(Buffer.concat([Buffer.from(`${cookie} `), Buffer.from(bencode.encode(dict))]), cookie, timeoutMs);
    return reply ? decodeReply(reply) : undefined;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export function decodeReply(reply: Buffer): Record<string, unknown> {
  const body = reply.subarray(reply.indexOf(0x20) + 1);
  return (body[0] === 0x7b ? JSON.parse(body.toString('utf8')) : texts(bencode.decode(body))) as Record<string, unknown>;
}

/** Byte strings as UTF-8 text (the package's own `encoding` argument fails on dictionaries). */
function texts(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(texts);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, texts(v)]));
  return value;
}
