import { writeFileSync } from 'node:fs';

/**
 * Writes UDP datagrams as a classic libpcap file (Ethernet, IPv4, UDP) for SIPp's
 * `play_pcap_audio`, which replays each packet's payload at its recorded time, from the call's
 * media port to the remote media address of the call (the addresses in the file are ignored).
 */

export interface TimedDatagram {
  /** Milliseconds from the start of the file. */
  atMs: number;
  payload: Buffer;
}

const PLACEHOLDER_SRC = [192, 0, 2, 1];
const PLACEHOLDER_DST = [192, 0, 2, 2];

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function frame(payload: Buffer): Buffer {
  const ethernet = Buffer.alloc(14);
  ethernet.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from(PLACEHOLDER_SRC).copy(ip, 12);
  Buffer.from(PLACEHOLDER_DST).copy(ip, 16);
  ip.writeUInt16BE(ipv4Checksum(ip), 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(40000, 0);
  udp.writeUInt16BE(40002, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  // Checksum 0: none (IPv4); SIPp recomputes its own when it sends.
  return Buffer.concat([ethernet, ip, udp, payload]);
}

export function writePcap(path: string, datagrams: readonly TimedDatagram[]): void {
  const global = Buffer.alloc(24);
  global.writeUInt32LE(0xa1b2c3d4, 0);
  global.writeUInt16LE(2, 4);
  global.writeUInt16LE(4, 6);
  global.writeUInt32LE(65535, 16);
  global.writeUInt32LE(1, 20);
  const records = datagrams.map(({ atMs, payload }) => {
    const data = frame(payload);
    const header = Buffer.alloc(16);
    const us = Math.round(atMs * 1000);
    header.writeUInt32LE(Math.floor(us / 1e6), 0);
    header.writeUInt32LE(us % 1e6, 4);
    header.writeUInt32LE(data.length, 8);
    header.writeUInt32LE(data.length, 12);
    return Buffer.concat([header, data]);
  });
  writeFileSync(path, Buffer.concat([global, ...records]));
}

/** The UDP payloads of a classic libpcap file of Ethernet/IPv4 frames, with their times. */
export function readPcapDatagrams(file: Buffer): TimedDatagram[] {
  if (file.readUInt32LE(0) !== 0xa1b2c3d4 || file.readUInt32LE(20) !== 1) throw new Error('expected a microsecond libpcap file of Ethernet frames');
  const out: TimedDatagram[] = [];
  let first: number | undefined;
  for (let at = 24; at + 16 <= file.length; ) {
    const us = file.readUInt32LE(at) * 1e6 + file.readUInt32LE(at + 4);
    const length = file.readUInt32LE(at + 8);
    const data = file.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    if (data.readUInt16BE(12) !== 0x0800 || data[14 + 9] !== 17) continue;
    const ipHeader = (data[14] & 0x0f) * 4;
    const udp = 14 + ipHeader;
    first ??= us;
    out.push({ atMs: (us - first) / 1000, payload: Buffer.from(data.subarray(udp + 8, udp + data.readUInt16BE(udp + 4))) });
  }
  return out;
}
