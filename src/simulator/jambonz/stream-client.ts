import type { WebSocket } from 'ws';
import { decodeL16, encodeL16 } from '../../dsp/index.js';
import { concatSamples } from '../audio.js';
import { JAMBONZ_SUBPROTOCOL } from '../../telephony/jambonz/ws-auth.js';
import { pathUnder } from '../plivo/webhooks.js';
import { closeSocket, closedWith, openSocket } from '../socket.js';
import type { JambonzTarget, ListenInstruction } from './webhooks.js';

export interface JambonzStreamOptions {
  callSid: string;
  from: string;
  to: string;
  direction: 'inbound' | 'outbound';
  accountSid: string;
  listen: ListenInstruction;
  /** Override the upgrade's Basic credentials (forgery tests); null sends none. */
  authorization?: string | null;
}

/**
 * Plays jambonz's side of one `listen` socket (mod_audio_fork): the `audio.jambonz.org`
 * subprotocol and the listen's Basic credentials, a metadata text message (the call's attributes
 * with the listen's metadata merged in), then binary L16 and `dtmf` text messages. Answers each
 * mark with a `playout` notice and collects the audio played to it.
 */
export class JambonzStreamClient {
  readonly received: Int16Array[] = [];
  readonly marks: string[] = [];
  kills = 0;
  private readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly ws: WebSocket,
    readonly sampleRate: number,
  ) {
    this.closed = closedWith(ws);
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
  }

  static async open(target: JambonzTarget, options: JambonzStreamOptions): Promise<JambonzStreamClient> {
    const path = pathUnder(target.publicUrl.replace(/^http/, 'ws'), options.listen.url);
    const auth = options.listen.wsAuth;
    const authorization = options.authorization === undefined ? (auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : null) : options.authorization;
    const ws = await openSocket(target.baseUrl.replace(/^http/, 'ws') + path, [JAMBONZ_SUBPROTOCOL], { headers: authorization === null ? {} : { authorization } });
    const client = new JambonzStreamClient(ws, options.listen.sampleRate);
    ws.send(
      JSON.stringify({
        sampleRate: options.listen.sampleRate,
        mixType: 'mono',
        callSid: options.callSid,
        direction: options.direction,
        from: options.from,
        to: options.to,
        callStatus: 'in-progress',
        accountSid: options.accountSid,
        ...options.listen.metadata,
      }),
    );
    return client;
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Sends linear samples (at the listen's rate) as one binary L16 frame. */
  sendAudio(samples: Int16Array): void {
    const bytes = Buffer.alloc(samples.length * 2);
    encodeL16(samples, bytes);
    if (this.open) this.ws.send(bytes, { binary: true });
  }

  /** `passDtmf`: `duration` in 8 kHz samples, as jambonz reports it. */
  sendDtmf(digit: string): void {
    if (this.open) this.ws.send(JSON.stringify({ event: 'dtmf', dtmf: digit, duration: 1280 }));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    if (this.open) this.ws.send(data, { binary });
  }

  /** jambonz ends a listen by closing its socket. */
  stop(): Promise<void> {
    return closeSocket(this.ws, this.closed);
  }

  closedWith(): Promise<{ code: number; reason: string }> {
    return this.closed;
  }

  receivedAudio(): Int16Array {
    return concatSamples(this.received);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const samples = new Int16Array(data.length >> 1);
      decodeL16(data, samples);
      this.received.push(samples);
      return;
    }
    const message = JSON.parse(data.toString()) as { type?: string; data?: { name?: string; audioContent?: string } };
    if (message.type === 'mark' && message.data?.name !== undefined) {
      this.marks.push(message.data.name);
      this.ws.send(JSON.stringify({ type: 'mark', data: { name: message.data.name, event: 'playout' } }));
    } else if (message.type === 'killAudio') {
      this.kills++;
    } else if (message.type === 'playAudio' && message.data?.audioContent) {
      const bytes = Buffer.from(message.data.audioContent, 'base64');
      const samples = new Int16Array(bytes.length >> 1);
      decodeL16(bytes, samples);
      this.received.push(samples);
      this.ws.send(JSON.stringify({ type: 'playDone', data: { id: 'simulated' } }));
    }
  }
}
