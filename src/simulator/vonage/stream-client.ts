import { WebSocket } from 'ws';
import { decodeL16, encodeL16 } from '../../dsp/index.js';
import { concatSamples } from '../audio.js';
import { rateOf } from '../../telephony/vonage/wire.js';
import type { VonageSigner } from './signer.js';
import type { WebsocketInstruction } from './webhooks.js';

export interface VonageStreamClientOptions {
  instruction: WebsocketInstruction;
  signer: VonageSigner;
  /** Override the upgrade's Authorization header (forgery tests); null sends none. */
  authorization?: string | null;
}

/**
 * Plays Vonage's side of one websocket endpoint: an upgrade carrying Vonage's JWT, the text
 * `websocket:connected` with the NCCO headers flattened in, then binary 20 ms L16 frames and
 * `websocket:dtmf` events. Collects the audio the service sends back and the text commands.
 */
export class VonageStreamClient {
  readonly received: Int16Array[] = [];
  /** Text commands received (`{"action":"clear"}`, …), parsed. */
  readonly commands: Record<string, unknown>[] = [];
  /** Binary frames received whose size was not exactly one 20 ms frame. */
  oddFrames = 0;
  readonly sampleRate: 8000 | 16000;
  private readonly closedWith: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket, instruction: WebsocketInstruction) {
    this.sampleRate = rateOf(instruction.contentType) ?? 8000;
    this.closedWith = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
  }

  get frameSamples(): number {
    return this.sampleRate / 50;
  }

  static async open(baseUrl: string, options: VonageStreamClientOptions): Promise<VonageStreamClient> {
    const uri = new URL(options.instruction.uri);
    const authorization =
      options.authorization !== undefined
        ? options.authorization
        : options.instruction.authorization?.type === 'custom'
          ? (options.instruction.authorization.value ?? null)
          : await options.signer.authorization();
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws').replace(/\/$/, '') + uri.pathname + uri.search, { headers: authorization === null ? {} : { authorization } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const client = new VonageStreamClient(ws, options.instruction);
    client.sendText({ event: 'websocket:connected', 'content-type': options.instruction.contentType, ...options.instruction.headers });
    return client;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** One binary frame of the leg's audio (20 ms: 320 bytes at 8 kHz, 640 at 16 kHz). */
  sendAudio(samples: Int16Array): void {
    const bytes = Buffer.alloc(samples.length * 2);
    encodeL16(samples, bytes);
    if (this.open) this.ws.send(bytes, { binary: true });
  }

  sendDtmf(digit: string): void {
    this.sendText({ event: 'websocket:dtmf', digit, duration: 260 });
  }

  sendRaw(data: string | Buffer, binary = typeof data !== 'string'): void {
    if (this.open) this.ws.send(data, { binary });
  }

  /** Vonage has no stop message: the call ends and it closes the socket. */
  async stop(): Promise<void> {
    if (this.open) this.ws.close(1000, 'call ended');
    await Promise.race([this.closedWith, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.closedWith;
  }

  receivedAudio(): Int16Array {
    return concatSamples(this.received);
  }

  private sendText(message: unknown): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (data.length !== this.frameSamples * 2) this.oddFrames++;
      const samples = new Int16Array(data.length >> 1);
      decodeL16(data, samples);
      this.received.push(samples);
      return;
    }
    try {
      this.commands.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    } catch {
      this.commands.push({ unparsable: true });
    }
  }
}
