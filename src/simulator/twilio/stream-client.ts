import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { decodeMulaw, encodeMulaw } from '../../dsp/index.js';
import { concatSamples } from '../audio.js';
import { FRAME_MS } from '../pacing.js';
import { TWILIO_SIGNING, type StreamInstruction, type TwilioTarget, type WebhookSigning } from './webhooks.js';

export interface StreamClientOptions {
  callSid: string;
  accountSid: string;
  parameters: Record<string, string>;
  /** Override the upgrade signature (forgery tests). */
  signature?: string;
  /** The stream instruction this stream follows (for a dialect's upgrade headers). */
  instruction?: StreamInstruction;
}

/** Where a Twilio-format media stream connects and how its upgrade is signed (SignalWire speaks the same stream under its own names). */
export interface StreamDialect extends WebhookSigning {
  path: string;
  /** The upgrade's own headers, when the platform sends what its stream instruction said (SignalWire's bearer token) rather than a signature. */
  upgradeHeaders?: (instruction: StreamInstruction) => Record<string, string>;
}

export const TWILIO_DIALECT: StreamDialect = { ...TWILIO_SIGNING, path: '/media/twilio' };

/**
 * Where a stream connects and the URL its upgrade is signed over. A stream instruction under the
 * service's public URL goes to the target's listening address (a single node behind its public
 * name); one naming another URL (a cluster's media node) goes there, as Twilio would.
 */
function streamAddress(target: TwilioTarget, path: string, instruction: StreamInstruction | undefined): { signed: string; connect: string } {
  const publicWs = target.publicUrl.replace(/\/$/, '').replace(/^http/, 'ws') + path;
  if (!instruction || instruction.url === publicWs) return { signed: publicWs, connect: target.baseUrl.replace(/^http/, 'ws') + path };
  return { signed: instruction.url, connect: instruction.url };
}

/**
 * Plays Twilio's side of one bidirectional Media Stream: a signed upgrade, `connected`,
 * `start`, then `media`/`dtmf`/`stop`. Collects the audio the service sends back.
 */
export class TwilioStreamClient {
  readonly streamSid = 'MZ' + randomBytes(16).toString('hex');
  /** Decoded audio received from the service, in arrival order. */
  readonly received: Int16Array[] = [];
  readonly marks: string[] = [];
  clears = 0;
  private sequence = 0;
  private chunk = 0;
  private closedWith: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    private readonly options: StreamClientOptions,
  ) {
    this.closedWith = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data) => this.onMessage(data.toString()));
  }

  /** Opens the stream; rejects when the service refuses the upgrade. */
  static async open(target: TwilioTarget, options: StreamClientOptions, dialect: StreamDialect = TWILIO_DIALECT): Promise<TwilioStreamClient> {
    const { signed, connect } = streamAddress(target, dialect.path, options.instruction);
    const ws = new WebSocket(connect, {
      headers:
        dialect.upgradeHeaders && options.instruction && options.signature === undefined
          ? dialect.upgradeHeaders(options.instruction)
          : { [dialect.signatureHeader]: options.signature ?? dialect.sign(target.authToken, signed, {}) },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const client = new TwilioStreamClient(ws, options);
    client.sendJson({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    client.sendJson({
      event: 'start',
      sequenceNumber: client.nextSequence(),
      start: {
        accountSid: options.accountSid,
        streamSid: client.streamSid,
        callSid: options.callSid,
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        customParameters: options.parameters,
      },
      streamSid: client.streamSid,
    });
    return client;
  }

  /** The `<Parameter>`s this stream echoed in its `start` (as Twilio does with the TwiML's). */
  get parameters(): Readonly<Record<string, string>> {
    return this.options.parameters;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends linear samples as one μ-law `media` message. */
  sendAudio(samples: Int16Array): void {
    const bytes = Buffer.alloc(samples.length);
    encodeMulaw(samples, bytes);
    const timestamp = String(this.chunk * FRAME_MS);
    this.sendJson({
      event: 'media',
      sequenceNumber: this.nextSequence(),
      media: { track: 'inbound', chunk: String(++this.chunk), timestamp, payload: bytes.toString('base64') },
      streamSid: this.streamSid,
    });
  }

  sendDtmf(digit: string): void {
    this.sendJson({ event: 'dtmf', streamSid: this.streamSid, sequenceNumber: this.nextSequence(), dtmf: { track: 'inbound_track', digit } });
  }

  sendRaw(text: string): void {
    if (this.open) this.ws.send(text);
  }

  /** Sends `stop` and waits for the socket to close. */
  async stop(): Promise<void> {
    if (this.open) {
      this.sendJson({ event: 'stop', sequenceNumber: this.nextSequence(), stop: { accountSid: this.options.accountSid, callSid: this.options.callSid }, streamSid: this.streamSid });
    }
    await Promise.race([this.closed(), new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.closedWith;
  }

  /** Everything received so far as one buffer. */
  receivedAudio(): Int16Array {
    return concatSamples(this.received);
  }

  private nextSequence(): string {
    return String(++this.sequence);
  }

  private sendJson(message: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as { event: string; media?: { payload: string }; mark?: { name: string } };
    if (message.event === 'media' && message.media) {
      const bytes = Buffer.from(message.media.payload, 'base64');
      const samples = new Int16Array(bytes.length);
      decodeMulaw(bytes, samples);
      this.received.push(samples);
    } else if (message.event === 'mark' && message.mark) {
      this.marks.push(message.mark.name);
    } else if (message.event === 'clear') {
      this.clears++;
    }
  }
}
