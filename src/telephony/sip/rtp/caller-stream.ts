import type { Keypress } from '../../../capture/types.js';
import type { NegotiatedPayloads } from '../relay/types.js';
import { Concealer } from './concealment.js';
import { JitterBuffer, type JitterBufferOptions, type JitterStats } from './jitter-buffer.js';
import { tsDiff, type RtpPacket } from './packet.js';
import { decodeG711, isAudio, payloadKind, type AudioCodec, type PayloadKind } from './payloads.js';
import { parseRed } from './redundancy.js';
import { EventDeduplicator, keypressOf, parseTelephoneEvents } from './telephone-event.js';

/** Where the caller's cleaned-up stream goes: the masker's input and the capture engine. */
export interface CallerSink {
  /** Linear 8 kHz audio in play-out order: received, concealed, or filling an event's time. */
  audio(samples: Int16Array): void;
  /** A keypress from a telephone-event, once per press. */
  key(key: Keypress): void;
  /** The stream moved on by `samples` with nothing to play (silence suppression, hold, a long outage). */
  discontinuity(samples: number): void;
}

export interface CallerStreamStats {
  audioPackets: number;
  eventPackets: number;
  keys: number;
  /** Samples of fill for lost audio and for the time telephone-events covered. */
  concealedSamples: number;
  eventFillSamples: number;
  /** Audio the stream already covered (sent alongside an event): not played twice. */
  overlapping: number;
  /** Audio refused because the sender ran faster than real time beyond the burst allowance. */
  overrun: number;
  malformed: number;
  unknownPayload: number;
  ssrcChanges: number;
  /** The codec the caller is sending, once heard. */
  codec: AudioCodec | null;
  jitter: JitterStats;
}

interface Item {
  kind: PayloadKind | null;
  timestamp: number;
  payload: Uint8Array;
}

const RATE_PER_MS = 8;
/**
 * Gaps up to this long (200 ms) are filled; a longer one (silence suppression, hold, an outage) is
 * a discontinuity: the outbound stream jumps with it rather than bursting made-up audio at once.
 */
const MAX_FILL_SAMPLES = 1600;
/**
 * A sender (or our own event loop after a stall) may run this far ahead of real time (2 s) before
 * its audio is refused: bounds the masker's work per call to real time plus this, once.
 */
const BURST_SAMPLES = 16_000;
/** 200 ms at 8 kHz: the largest audio payload accepted. */
const MAX_AUDIO_BYTES = 1600;

export const DEFAULT_JITTER: JitterBufferOptions = { depth: 2, maxWaitMs: 40 };

/**
 * The caller's inbound RTP made into a clean, masked-ready stream: packets reordered by the
 * jitter buffer, G.711 decoded, losses concealed, telephone-events (plain or inside RFC 2198
 * redundancy) consumed as keypresses with their time filled, all on the caller's own media clock
 * (RTP timestamps), so the masker sees exactly as much audio as the caller's time covered.
 * Pure: no sockets, no timers (the relay calls `poll`).
 */
export class CallerStream {
  private readonly jitter: JitterBuffer<Item>;
  private readonly dedup = new EventDeduplicator();
  private readonly concealer = new Concealer();
  private readonly decoded = new Int16Array(MAX_AUDIO_BYTES);
  private ssrc: number | null = null;
  /** The caller's media position: the RTP timestamp of the next sample it owes us. */
  private nextTs: number | null = null;
  private afterEvent = false;
  private tokens = BURST_SAMPLES;
  private tokensAtMs: number | null = null;
  private readonly counters: Omit<CallerStreamStats, 'jitter'> = {
    audioPackets: 0,
    eventPackets: 0,
    keys: 0,
    concealedSamples: 0,
    eventFillSamples: 0,
    overlapping: 0,
    overrun: 0,
    malformed: 0,
    unknownPayload: 0,
    ssrcChanges: 0,
    codec: null,
  };

  constructor(
    private payloads: NegotiatedPayloads,
    private readonly sink: CallerSink,
    jitter: JitterBufferOptions = DEFAULT_JITTER,
  ) {
    this.jitter = new JitterBuffer<Item>(jitter, (item) => this.play(item));
  }

  get stats(): CallerStreamStats {
    return { ...this.counters, jitter: { ...this.jitter.stats } };
  }

  /** The codec the caller is sending, once heard. */
  get codec(): AudioCodec | null {
    return this.counters.codec;
  }

  /** Packets waiting in the jitter buffer (the relay polls only streams that hold some). */
  get pending(): number {
    return this.jitter.size;
  }

  setPayloads(payloads: NegotiatedPayloads): void {
    this.payloads = payloads;
  }

  push(packet: RtpPacket, nowMs: number): void {
    this.refill(nowMs);
    if (this.ssrc !== packet.ssrc) {
      if (this.ssrc !== null) {
        this.counters.ssrcChanges++;
        this.jitter.reset();
        this.nextTs = null;
        this.sink.discontinuity(0);
      }
      this.ssrc = packet.ssrc;
    }
    const kind = payloadKind(this.payloads, packet.payloadType);
    if (kind === null) this.counters.unknownPayload++;
    // Unknown payload types still take their place in the sequence, so they never look like a gap to wait for.
    this.jitter.push(packet.sequence, { kind, timestamp: packet.timestamp, payload: packet.payload }, nowMs);
  }

  poll(nowMs: number): void {
    this.refill(nowMs);
    this.jitter.poll(nowMs);
  }

  /** Plays out whatever is held (the call ends). */
  flush(): void {
    this.jitter.flush();
  }

  private play(item: Item): void {
    if (item.kind === null) return;
    if (isAudio(item.kind)) return this.playAudio(item.kind, item.timestamp, item.payload);
    if (item.kind === 'telephone-event') return this.playEvents(item.timestamp, item.payload);
    this.playRed(item.timestamp, item.payload);
  }

  private playRed(timestamp: number, payload: Uint8Array): void {
    const blocks = parseRed(payload, timestamp);
    if (!blocks) {
      this.counters.malformed++;
      return;
    }
    for (const block of blocks) {
      const kind = payloadKind(this.payloads, block.payloadType);
      if (kind === 'telephone-event') this.playEvents(block.timestamp, block.data);
      // Redundant audio copies are not needed: the primary block carries the current audio.
      else if (isAudio(kind) && block.primary) this.playAudio(kind, block.timestamp, block.data);
    }
  }

  private playAudio(codec: AudioCodec, timestamp: number, payload: Uint8Array): void {
    if (payload.length === 0 || payload.length > MAX_AUDIO_BYTES) {
      this.counters.malformed++;
      return;
    }
    this.counters.audioPackets++;
    this.counters.codec = codec;
    const n = payload.length;
    if (this.nextTs !== null) {
      const gap = tsDiff(timestamp, this.nextTs);
      if (gap < 0 && tsDiff((timestamp + n) >>> 0, this.nextTs) <= 0) {
        this.counters.overlapping++;
        return;
      }
      if (gap > 0) this.fillGap(gap, this.afterEvent ? 'event' : 'loss');
    }
    if (!this.take(n)) {
      // Its time is gone, not lost: skipped outright, or the next packet would spend its own allowance concealing it.
      this.counters.overrun++;
      this.nextTs = (timestamp + n) >>> 0;
      this.sink.discontinuity(n);
      return;
    }
    const samples = this.decoded.subarray(0, n);
    decodeG711(codec, payload, samples);
    this.nextTs = (timestamp + n) >>> 0;
    this.afterEvent = false;
    this.concealer.played(samples);
    this.sink.audio(samples);
  }

  private playEvents(timestamp: number, payload: Uint8Array): void {
    const events = parseTelephoneEvents(payload, timestamp);
    if (!events) {
      this.counters.malformed++;
      return;
    }
    this.counters.eventPackets++;
    for (const event of events) {
      if (!this.dedup.accept(this.ssrc ?? 0, event)) continue;
      const key = keypressOf(event.code);
      if (key) {
        this.counters.keys++;
        this.sink.key(key);
      }
    }
    const first = events[0];
    const last = events[events.length - 1];
    const reached = (last.timestamp + last.duration) >>> 0;
    this.nextTs ??= first.timestamp;
    // The press began after a silence the sender did not fill: jump to its onset, then fill its time.
    const silence = tsDiff(first.timestamp, this.nextTs);
    if (silence > MAX_FILL_SAMPLES) this.fillGap(silence, 'event');
    const gap = tsDiff(reached, this.nextTs);
    if (gap > 0) this.fillGap(gap, 'event');
    this.afterEvent = true;
  }

  /**
   * Fills `gap` samples of the caller's time (up to the real-time allowance; the rest is a
   * discontinuity), or, beyond MAX_FILL_SAMPLES, marks it all as a discontinuity.
   */
  private fillGap(gap: number, kind: 'loss' | 'event'): void {
    const fill = gap > MAX_FILL_SAMPLES ? 0 : Math.min(gap, Math.max(0, Math.floor(this.tokens)));
    this.tokens -= fill;
    if (fill > 0) {
      this.concealer.fill(fill, kind, (frame) => this.sink.audio(frame));
      if (kind === 'event') this.counters.eventFillSamples += fill;
      else this.counters.concealedSamples += fill;
    }
    if (gap > fill) this.sink.discontinuity(gap - fill);
    this.nextTs = ((this.nextTs ?? 0) + gap) >>> 0;
  }

  private take(samples: number): boolean {
    if (this.tokens < samples) return false;
    this.tokens -= samples;
    return true;
  }

  private refill(nowMs: number): void {
    if (this.tokensAtMs !== null) this.tokens = Math.min(BURST_SAMPLES, this.tokens + (nowMs - this.tokensAtMs) * RATE_PER_MS);
    this.tokensAtMs = nowMs;
  }
}
