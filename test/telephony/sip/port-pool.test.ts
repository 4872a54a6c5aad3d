import { createSocket, type Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { PortPool, PortsExhaustedError } from '../../../src/telephony/sip/relay/port-pool.js';
import { privateRange } from './endpoints.js';

function hold(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(null);
    });
    s.bind({ port, address: '127.0.0.1', exclusive: true }, () => resolve(s));
  });
}

describe('RTP port pool', () => {
  it('hands out even RTP + odd RTCP pairs, skips a pair another process holds, frees on release, and says when it is full', async () => {
    const { min } = privateRange();
    const pool = new PortPool({ min: min + 1, max: min + 8 }, '127.0.0.1');
    // min + 1 is odd: the first pair is min + 2 / min + 3. Someone else holds min + 5 (the second pair's RTCP port).
    const squatter = await hold(min + 5);
    const first = await pool.allocate();
    const second = await pool.allocate();
    expect(first).toMatchObject({ rtpPort: min + 2, rtcpPort: min + 3 });
    if (squatter) expect(second.rtpPort).toBe(min + 6);
    expect(pool.allocated).toBe(4);
    if (squatter) await expect(pool.allocate()).rejects.toBeInstanceOf(PortsExhaustedError);
    pool.release(first);
    pool.release(first);
    expect(pool.allocated).toBe(2);
    const again = await pool.allocate();
    expect(again.rtpPort).toBe(min + 2);
    pool.release(again);
    pool.release(second);
    squatter?.close();
  });

  it('refuses a range with no even/odd pair', () => {
    expect(() => new PortPool({ min: 30001, max: 30002 }, '127.0.0.1')).toThrow(RangeError);
    expect(() => new PortPool({ min: 30010, max: 30000 }, '127.0.0.1')).toThrow(RangeError);
  });
});
