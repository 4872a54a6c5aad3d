import type { LegStreamClient } from '../two-leg-call.js';
import type { TwilioStreamClient } from './stream-client.js';
import type { StreamInstruction } from './webhooks.js';

/**
 * Asks for the leg's next instruction when its stream ended without the simulator stopping it:
 * Twilio requests the `<Connect action>` URL; resolves to the new stream, or undefined (hang-up,
 * an error, no action).
 */
export type NextInstruction = (action: string) => Promise<StreamInstruction | undefined>;

/** Opens one stream as an instruction says. */
export type OpenStream = (instruction: StreamInstruction) => Promise<TwilioStreamClient>;

/**
 * One leg of a played call as Twilio carries it across stream ends: when the service's side of the
 * stream goes away (its node died) and the `<Connect>` has an `action`, the leg requests it and
 * follows the `<Connect><Stream>` it answers, to whichever node it names, with its new parameters.
 * Audio sent while no stream is open is lost, as on a real call; a play in progress goes on.
 */
export class FollowedStream implements LegStreamClient {
  /** Every stream instruction this leg followed, in order (the first is the webhook's). */
  readonly instructions: StreamInstruction[] = [];
  private readonly clients: TwilioStreamClient[] = [];
  private stopped = false;
  private ended = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(
    private readonly openStream: OpenStream,
    private readonly next: NextInstruction,
  ) {}

  static async open(instruction: StreamInstruction, openStream: OpenStream, next: NextInstruction): Promise<FollowedStream> {
    const leg = new FollowedStream(openStream, next);
    await leg.follow(instruction);
    return leg;
  }

  /** The stream open now (the last one). */
  get current(): TwilioStreamClient {
    return this.clients[this.clients.length - 1];
  }

  /** The media URLs this leg streamed to, in order: which node carried it when. */
  get streamUrls(): string[] {
    return this.instructions.map((instruction) => instruction.url);
  }

  /** True until the leg ended for good (stopped, hung up, or a stream end with nothing to follow). */
  get open(): boolean {
    return !this.ended;
  }

  get parameters(): Readonly<Record<string, string>> {
    return this.current.parameters;
  }

  get streamSid(): string {
    return this.current.streamSid;
  }

  get ws(): TwilioStreamClient['ws'] {
    return this.current.ws;
  }

  /** Decoded audio received on every stream of the leg, in arrival order. */
  get received(): Int16Array[] {
    return this.clients.flatMap((client) => client.received);
  }

  get marks(): string[] {
    return this.clients.flatMap((client) => client.marks);
  }

  get clears(): number {
    return this.clients.reduce((sum, client) => sum + client.clears, 0);
  }

  sendAudio(samples: Int16Array): void {
    if (this.current.open) this.current.sendAudio(samples);
  }

  sendDtmf(digit: string): void {
    if (this.current.open) this.current.sendDtmf(digit);
  }

  sendRaw(text: string): void {
    this.current.sendRaw(text);
  }

  closed(): ReturnType<TwilioStreamClient['closed']> {
    return this.current.closed();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.ended = true;
    await this.current.stop();
  }

  receivedAudio(): Int16Array {
    const parts = this.received;
    const out = new Int16Array(parts.reduce((n, part) => n + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Resolves once the leg has streamed `count` times in all (the first stream counts), or ended. */
  async streamed(count: number): Promise<void> {
    while (this.clients.length < count && !this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private async follow(instruction: StreamInstruction): Promise<void> {
    const client = await this.openStream(instruction);
    this.instructions.push(instruction);
    this.clients.push(client);
    this.wake();
    void client.closed().then(() => this.streamEnded(instruction));
  }

  private async streamEnded(instruction: StreamInstruction): Promise<void> {
    if (this.stopped) return;
    const next = instruction.action ? await this.next(instruction.action).catch(() => undefined) : undefined;
    if (!next || this.stopped) {
      this.ended = true;
      return this.wake();
    }
    await this.follow(next).catch(() => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
