import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { decode, encode, type AudioEncoding } from '../../dsp/index.js';
import { concatSamples } from '../audio.js';
import { swapBytePairs } from '../../telephony/telnyx/wire.js';

/** What `streaming_start` told Telnyx (the body the stand-in recorded). */
export interface TelnyxStreamingStart {
  stream_url: string;
  stream_auth_token?: string;
  stream_bidirectional_codec?: string;
  stream_bidirectional_sampling_rate?: number;
  custom_parameters?: { name: string; value: string }[];
}

export interface TelnyxStreamClientOptions {
  callControlId: string;
  command: TelnyxStreamingStart;
  /** Override the upgrade token (forgery tests); null sends none. */
  authToken?: string | null;
  /** Send media in a shuffled order within this many frames (Telnyx does not promise order). */
  shuffleWindow?: number;
  /** L16 byte order on this simulated account. */
  l16ByteOrder?: 'big' | 'little';
}

const FRAME_MS = 20;

/**
 * Plays Telnyx's side of one bidirectional media stream: an upgrade carrying
 * `x-telnyx-streaming-auth-token`, `connected`, `start`, then `media`/`dtmf`/`stop` with
 * sequence numbers. Collects (decoded) the audio the service sends back, and its marks and clears.
 */
export class TelnyxStreamClient {
  readonly streamId = randomUUID().toUpperCase();
  readonly received: Int16Array[] = [];
  readonly marks: string[] = [];
  clears = 0;
  readonly encoding: AudioEncoding;
  readonly sampleRate: 8000 | 16000;
  private sequence = 1;
  private chunk = 0;
  private readonly shuffled: string[] = [];
  private readonly closedWith: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    private readonly options: TelnyxStreamClientOptions,
  ) {
    const codec = options.command.stream_bidirectional_codec ?? 'PCMU';
    this.encoding = codec === 'L16' ? 'l16' : codec === 'PCMA' ? 'pcma' : 'pcmu';
    this.sampleRate = codec === 'L16' && (options.command.stream_bidirectional_sampling_rate ?? 16000) === 16000 ? 16000 : 8000;
    this.closedWith = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => this.onMessage(data.toString()));
  }

  /** Samples in one 20 ms frame. */
  get frameSamples(): number {
    return (this.sampleRate * FRAME_MS) / 1000;
  }

  /** Opens the stream against `baseUrl` (the stream URL's path and query, on the service's own address). */
  static async open(baseUrl: string, options: TelnyxStreamClientOptions): Promise<TelnyxStreamClient> {
    const streamUrl = new URL(options.command.stream_url);
    const token = options.authToken === undefined ? options.command.stream_auth_token : options.authToken;
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws').replace(/\/$/, '') + streamUrl.pathname + streamUrl.search, {
      headers: token ? { 'x-telnyx-streaming-auth-token': token } : {},
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const client = new TelnyxStreamClient(ws, options);
    client.sendJson({ event: 'connected', version: '1.0.0' });
    client.sendJson({
      event: 'start',
      sequence_number: String(client.sequence),
      stream_id: client.streamId,
      start: {
        user_id: randomUUID(),
        call_control_id: options.callControlId,
        call_session_id: randomUUID(),
        from: '+13122010094',
        to: '+13122123456',
        client_state: null,
        custom_parameters: Object.fromEntries((options.command.custom_parameters ?? []).map((p) => [p.name, p.value])),
        media_format: { encoding: options.command.stream_bidirectional_codec ?? 'PCMU', sample_rate: client.sampleRate, channels: 1 },
      },
    });
    return client;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** One `media` frame of the leg's inbound audio. */
  sendAudio(samples: Int16Array): void {
    const bytes = new Uint8Array(samples.length * (this.encoding === 'l16' ? 2 : 1));
    encode(this.encoding, samples, bytes);
    if (this.encoding === 'l16' && (this.options.l16ByteOrder ?? 'big') === 'big') swapBytePairs(bytes);
    this.chunk++;
    this.sendOrdered({
      event: 'media',
      sequence_number: this.nextSequence(),
      stream_id: this.streamId,
      media: { track: 'inbound', chunk: String(this.chunk), timestamp: String(this.chunk * FRAME_MS), payload: Buffer.from(bytes).toString('base64') },
    });
  }

  sendDtmf(digit: string): void {
    this.sendOrdered({ event: 'dtmf', sequence_number: this.nextSequence(), stream_id: this.streamId, dtmf: { digit } });
  }

  sendRaw(text: string): void {
    if (this.open) this.ws.send(text);
  }

  /** Sends `stop` (after anything still shuffled) and waits for the socket to close. */
  async stop(): Promise<void> {
    this.release();
    this.sendJson({ event: 'stop', sequence_number: this.nextSequence(), stream_id: this.streamId, stop: { call_control_id: this.options.callControlId } });
    await Promise.race([this.closedWith, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.closedWith;
  }

  receivedAudio(): Int16Array {
    return concatSamples(this.received);
  }

  private nextSequence(): string {
    return String(++this.sequence);
  }

  /** With a shuffle window, messages wait in a small pool and leave in reversed order when it fills. */
  private sendOrdered(message: unknown): void {
    const window = this.options.shuffleWindow ?? 0;
    if (window < 2) return this.sendJson(message);
    this.shuffled.push(JSON.stringify(message));
    if (this.shuffled.length >= window) this.release();
  }

  private release(): void {
    while (this.shuffled.length > 0) this.sendRaw(this.shuffled.pop() as string);
  }

  private sendJson(message: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  private onMessage(text: string): void {
    let message: { event?: string; media?: { payload?: string }; mark?: { name?: string } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.event === 'media' && typeof message.media?.payload === 'string') {
      const bytes = Buffer.from(message.media.payload, 'base64');
      if (this.encoding === 'l16' && (this.options.l16ByteOrder ?? 'big') === 'big') swapBytePairs(bytes);
      const samples = new Int16Array(bytes.length / (this.encoding === 'l16' ? 2 : 1));
      decode(this.encoding, bytes, samples);
      this.received.push(samples);
    } else if (message.event === 'mark' && typeof message.mark?.name === 'string') {
      this.marks.push(message.mark.name);
    } else if (message.event === 'clear') {
      this.clears++;
    }
  }
}
