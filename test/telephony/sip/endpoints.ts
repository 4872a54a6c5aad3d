import { createSocket, type Socket } from 'node:dgram';
import { decodeMulaw } from '../../../src/dsp/index.js';
import { createMediaService, StreamCredentials, type MediaService } from '../../../src/media/index.js';
import { createRtpRelay, relayMedia, type SipRtpRelay } from '../../../src/telephony/sip/relay/index.js';
import { isRtcp, parseRtp, type RtpPacket } from '../../../src/telephony/sip/rtp/packet.js';
import type { PeerMedia } from '../../../src/telephony/sip/relay/types.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';
import { PCMU, RED, TE, type SentPacket } from './rtp-session.js';

/** A fake SIP endpoint's media: one RTP and one RTCP socket on loopback, recording what arrives. */
export interface FakeEndpoint {
  rtp: Socket;
  rtcp: Socket;
  received: RtpPacket[];
  rtcpReceived: Buffer[];
  peer(overrides?: Partial<PeerMedia>): PeerMedia;
  /** Sends each packet when it is due (its `atMs` from now) to `port`. */
  play(packets: readonly SentPacket[], port: number): Promise<void>;
  /** The μ-law payloads received, decoded, in arrival order. */
  audio(): Int16Array;
  close(): void;
}

/** A UDP socket on an ephemeral loopback port. */
export function loopbackSocket(): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

export async function fakeEndpoint(): Promise<FakeEndpoint> {
  const rtp = await loopbackSocket();
  const rtcp = await loopbackSocket();
  const received: RtpPacket[] = [];
  const rtcpReceived: Buffer[] = [];
  rtp.on('message', (buf) => {
    if (isRtcp(buf)) rtcpReceived.push(buf);
    else {
      const p = parseRtp(buf);
      if (p) received.push({ ...p, payload: Uint8Array.from(p.payload) });
    }
  });
  rtcp.on('message', (buf) => rtcpReceived.push(buf));
  return {
    rtp,
    rtcp,
    received,
    rtcpReceived,
    peer: (overrides = {}) => ({
      address: '127.0.0.1',
      port: rtp.address().port,
      rtcpPort: rtcp.address().port,
      rtcpMux: false,
      payloads: { pcmu: PCMU, telephoneEvent: TE, redundancy: RED },
      direction: 'sendrecv',
      ...overrides,
    }),
    play: (packets, port) =>
      new Promise((resolve) => {
        const started = performance.now();
        let next = 0;
        const tick = () => {
          const elapsed = performance.now() - started;
          while (next < packets.length && packets[next].atMs <= elapsed) rtp.send(packets[next++].bytes, port, '127.0.0.1');
          if (next < packets.length) setTimeout(tick, 5);
          else resolve();
        };
        tick();
      }),
    audio: () => {
      const audio = received.filter((p) => p.payloadType === PCMU);
      const out = new Int16Array(audio.reduce((n, p) => n + p.payload.length, 0));
      let at = 0;
      for (const p of audio) {
        decodeMulaw(p.payload, out.subarray(at, at + p.payload.length));
        at += p.payload.length;
      }
      return out;
    },
    close: () => {
      rtp.close();
      rtcp.close();
    },
  };
}

/** A private port range per test file: other suites bind RTP ports on this machine at the same time. */
export function privateRange(): { min: number; max: number } {
  const min = 20000 + 2 * Math.floor(Math.random() * 10000);
  return { min, max: min + 199 };
}

export interface RelayBed {
  server: TestServer;
  media: MediaService;
  relay: SipRtpRelay;
  close(): Promise<void>;
}

/** The real service (registry, capture engine, keyring, recorder) with a media service and an RTP relay on loopback. */
export async function startRelayBed(): Promise<RelayBed> {
  const server = await startTestServer();
  const ctx = server.context;
  const media = createMediaService({ ...ctx, config: ctx.config, credentials: new StreamCredentials(60_000) });
  const relay = createRtpRelay({ media: relayMedia(media), portRange: privateRange(), bindAddress: '127.0.0.1', logger: ctx.logger, metrics: ctx.metrics });
  return {
    server,
    media,
    relay,
    close: async () => {
      relay.closeAll();
      await media.closeAll();
      await server.close();
    },
  };
}
