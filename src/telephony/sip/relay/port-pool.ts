import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export interface PortRange {
  min: number;
  max: number;
}

export interface PortPair {
  rtpPort: number;
  rtcpPort: number;
  rtp: Socket;
  rtcp: Socket;
}

export class PortsExhaustedError extends Error {
  readonly code = 'rtp_ports_exhausted';
  constructor(range: PortRange) {
    super(`no free RTP port pair in ${range.min}-${range.max}`);
  }
}

/**
 * Even RTP port plus the odd RTCP port above it (RFC 3550 §11), from `range`. A pair some other
 * process holds is skipped (the bind fails, the next pair is tried); pairs are handed out round
 * robin so a just-freed port is not reused at once (late packets of the old call would land in
 * the new one).
 */
export class PortPool {
  private readonly inUse = new Set<number>();
  private cursor: number;
  private readonly first: number;
  private readonly pairs: number;

  constructor(
    private readonly range: PortRange,
    private readonly host: string,
  ) {
    if (!Number.isInteger(range.min) || !Number.isInteger(range.max) || range.min < 1 || range.max > 65535 || range.max < range.min) {
      throw new RangeError('the RTP port range must be within 1-65535, min ≤ max');
    }
    this.first = range.min + (range.min % 2);
    this.pairs = Math.max(0, Math.floor((range.max - this.first - 1) / 2) + 1);
    if (this.pairs === 0) throw new RangeError('the RTP port range holds no even/odd pair');
    this.cursor = 0;
  }

  /** Ports currently held (two per pair). */
  get allocated(): number {
    return 2 * this.inUse.size;
  }

  async allocate(): Promise<PortPair> {
    for (let tried = 0; tried < this.pairs; tried++) {
      const rtpPort = this.first + 2 * this.cursor;
      this.cursor = (this.cursor + 1) % this.pairs;
      if (this.inUse.has(rtpPort)) continue;
      this.inUse.add(rtpPort);
      const pair = await this.bindPair(rtpPort);
      if (pair) return pair;
      this.inUse.delete(rtpPort);
    }
    throw new PortsExhaustedError(this.range);
  }

  release(pair: PortPair): void {
    if (!this.inUse.delete(pair.rtpPort)) return;
    for (const socket of [pair.rtp, pair.rtcp]) {
      try {
        socket.close();
      } catch {
        // Already closed by an error: nothing left to free.
      }
    }
  }

  private async bindPair(rtpPort: number): Promise<PortPair | null> {
    const rtp = await this.bind(rtpPort);
    if (!rtp) return null;
    const rtcp = await this.bind(rtpPort + 1);
    if (!rtcp) {
      rtp.close();
      return null;
    }
    return { rtpPort, rtcpPort: rtpPort + 1, rtp, rtcp };
  }

  private bind(port: number): Promise<Socket | null> {
    return new Promise((resolve) => {
      const socket = createSocket({ type: isIPv6(this.host) ? 'udp6' : 'udp4' });
      const failed = () => {
        socket.close();
        resolve(null);
      };
      socket.once('error', failed);
      socket.bind({ port, address: this.host, exclusive: true }, () => {
        socket.off('error', failed);
        resolve(socket);
      });
    });
  }
}
