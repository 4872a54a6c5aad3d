import { createSocket, type Socket } from 'node:dgram';
import { decodeRtp, isRtcp, PT_PCMU, encodeRtp, type RtpPacket } from './rtp.js';

/**
 * The agent's phone: a UDP socket the PBX's SDP points at. It records every RTP packet the relay
 * delivers, per source (one relay port per call), and talks back: once a source has sent, it
 * gets 20 ms μ-law silence packets from this socket, as a real phone's symmetric RTP would, so a
 * relay that latches onto the agent's first packet has one.
 */

export interface ReceivedStream {
  /** `address:port` the relay sent from. */
  source: string;
  packets: RtpPacket[];
  /** Datagrams that were not RTP version 2, and RTCP. */
  other: number;
  /** RTP packets received (also when they are not kept). */
  count: number;
  /** The span of sequence numbers seen (first to highest, unwrapped): count < span means gaps. */
  sequenceSpan: number;
}

export interface MediaSink {
  readonly port: number;
  /** Streams in the order their first packet arrived. */
  streams(): ReceivedStream[];
  /** Every RTP packet received, all sources. */
  readonly received: number;
  close(): Promise<void>;
}

const SILENCE_PCMU = Buffer.alloc(160, 0xff);

export async function startMediaSink(options: { keepPackets?: boolean; talkBack?: boolean } = {}): Promise<MediaSink> {
  const keep = options.keepPackets ?? true;
  const talkBack = options.talkBack ?? true;
  const socket: Socket = createSocket('udp4');
  const streams = new Map<string, ReceivedStream>();
  const sequences = new Map<string, { last: number; unwrapped: number }>();
  const talkers: NodeJS.Timeout[] = [];
  let received = 0;

  const startTalking = (address: string, port: number): void => {
    const ssrc = (0x5a000000 + port) >>> 0;
    let seq = 1;
    let ts = 0;
    const timer = setInterval(() => {
      const packet = encodeRtp({ payloadType: PT_PCMU, marker: seq === 1, sequence: seq++, timestamp: (ts += 160), ssrc, payload: SILENCE_PCMU });
      socket.send(packet, port, address);
    }, 20);
    talkers.push(timer);
  };

  socket.on('message', (data, rinfo) => {
    const source = `${rinfo.address}:${rinfo.port}`;
    let stream = streams.get(source);
    if (!stream) {
      stream = { source, packets: [], other: 0, count: 0, sequenceSpan: 0 };
      streams.set(source, stream);
      if (talkBack) startTalking(rinfo.address, rinfo.port);
    }
    const packet = isRtcp(data) ? undefined : decodeRtp(data);
    if (!packet) {
      stream.other++;
      return;
    }
    received++;
    stream.count++;
    const state = (sequences.get(source) ?? sequences.set(source, { last: packet.sequence, unwrapped: 0 }).get(source))!;
    const step = (packet.sequence - state.last) & 0xffff;
    // A forward step below half the space is progress; anything else is a late or repeated packet.
    if (step > 0 && step < 0x8000) {
      state.unwrapped += step;
      state.last = packet.sequence;
    }
    stream.sequenceSpan = state.unwrapped + 1;
    if (keep) stream.packets.push({ ...packet, payload: Buffer.from(packet.payload) });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  // Many calls' media at once in the bench: a large receive buffer keeps bursts from being dropped here.
  socket.setRecvBufferSize(8 * 1024 * 1024);
  return {
    port: socket.address().port,
    streams: () => [...streams.values()],
    get received() {
      return received;
    },
    close: async () => {
      talkers.forEach(clearInterval);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
