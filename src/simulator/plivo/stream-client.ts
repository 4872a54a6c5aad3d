import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { decode, encode } from '../../dsp/index.js';
import { concatSamples } from '../audio.js';
import { NONCE_HEADER, plivoV3Signature, SIGNATURE_HEADER } from '../../telephony/plivo/signature.js';
import { plivoFormat } from '../../telephony/plivo/wire.js';
import type { StreamFormat } from '../../media/types.js';
import { closeSocket, closedWith, openSocket } from '../socket.js';
import { pathUnder, plivoNonce, type PlivoStreamInstruction, type PlivoTarget } from './webhooks.js';

export interface PlivoStreamOptions {
  /** Plivo's CallUUID of the call this stream belongs to. */
  callId: string;
  authId: string;
  instruction: PlivoStreamInstruction;
  /** Override the upgrade's signature (forgery tests); null sends none. */
  signature?: string | null;
}

/**
 * Plays Plivo's side of one bidirectional audio stream: a signed upgrade to the `<Stream>` URL,
 * `start` with the XML's extra headers, then `media` and `dtmf`. Answers `checkpoint` with
 * `playedStream` and `clearAudio` with `clearedAudio`, and collects the audio played to it.
 */
export class PlivoStreamClient {
  readonly streamId = randomUUID();
  /** Audio received from the service (linear, at the stream's rate), in arrival order. */
  readonly received: Int16Array[] = [];
  readonly checkpoints: string[] = [];
  clears = 0;
  private sequence = 0;
  private chunk = 0;
  private readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    readonly format: StreamFormat,
    private readonly extraHeaders: string,
  ) {
    this.closed = closedWith(ws);
    ws.on('message', (data) => this.onMessage(data.toString()));
  }

  static async open(target: PlivoTarget, options: PlivoStreamOptions): Promise<PlivoStreamClient> {
    const [encoding, rate] = options.instruction.contentType.split(';rate=');
    const format = plivoFormat(encoding, rate ?? 8000);
    if (!format) throw new Error(`simulated Plivo stream: unknown contentType ${options.instruction.contentType}`);
    const path = pathUnder(target.publicUrl.replace(/^http/, 'ws'), options.instruction.url);
    const publicWs = target.publicUrl.replace(/\/$/, '').replace(/^http/, 'ws') + path;
    const nonce = plivoNonce();
    const signature = options.signature === undefined ? plivoV3Signature(target.authToken, 'GET', publicWs, {}, nonce) : options.signature;
    const ws = await openSocket(target.baseUrl.replace(/^http/, 'ws') + path, [], {
      headers: signature === null ? {} : { [SIGNATURE_HEADER]: signature, [NONCE_HEADER]: nonce },
    });
    const client = new PlivoStreamClient(ws, format, options.instruction.extraHeaders);
    client.sendJson({
      event: 'start',
      sequenceNumber: client.nextSequence(),
      start: { callId: options.callId, streamId: client.streamId, accountId: options.authId, tracks: ['inbound'], mediaFormat: { encoding, sampleRate: format.sampleRate } },
      // The reference shows the pairs `;`-separated here although the XML separates them with `,`.
      extra_headers: options.instruction.extraHeaders.replaceAll(',', ';'),
    });
    return client;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends linear samples (at the stream's rate) as one `media` message. */
  sendAudio(samples: Int16Array): void {
    const width = this.format.encoding === 'l16' ? 2 : 1;
    const bytes = Buffer.alloc(samples.length * width);
    encode(this.format.encoding, samples, bytes);
    this.sendJson({
      event: 'media',
      sequenceNumber: this.nextSequence(),
      streamId: this.streamId,
      media: { track: 'inbound', timestamp: String(Date.now()), chunk: ++this.chunk, payload: bytes.toString('base64') },
      extra_headers: this.extraHeaders.replaceAll(',', ';'),
    });
  }

  sendDtmf(digit: string): void {
    this.sendJson({ event: 'dtmf', sequenceNumber: this.nextSequence(), streamId: this.streamId, dtmf: { digit } });
  }

  sendRaw(text: string | Buffer, binary = false): void {
    if (this.open) this.ws.send(text, { binary });
  }

  /** Plivo has no `stop`: the stream ends with its socket. */
  stop(): Promise<void> {
    return closeSocket(this.ws, this.closed);
  }

  closedWith(): Promise<{ code: number; reason: string }> {
    return this.closed;
  }

  receivedAudio(): Int16Array {
    return concatSamples(this.received);
  }

  private nextSequence(): number {
    return ++this.sequence;
  }

  private sendJson(message: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as { event: string; name?: string; media?: { contentType: string; sampleRate: number | string; payload: string } };
    if (message.event === 'playAudio' && message.media) {
      const format = plivoFormat(message.media.contentType, message.media.sampleRate);
      if (!format) return;
      const bytes = Buffer.from(message.media.payload, 'base64');
      const samples = new Int16Array(format.encoding === 'l16' ? bytes.length >> 1 : bytes.length);
      decode(format.encoding, bytes, samples);
      this.received.push(samples);
    } else if (message.event === 'checkpoint' && message.name !== undefined) {
      this.checkpoints.push(message.name);
      this.sendJson({ event: 'playedStream', sequenceNumber: this.nextSequence(), streamId: this.streamId, name: message.name });
    } else if (message.event === 'clearAudio') {
      this.clears++;
      this.sendJson({ event: 'clearedAudio', sequenceNumber: this.nextSequence(), streamId: this.streamId });
    }
  }
}
