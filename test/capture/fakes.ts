import { MemoryAuditSink } from '../../src/audit/types.js';
import type { Clock } from '../../src/capture/clock.js';
import { createCaptureService } from '../../src/capture/service.js';
import type { CaptureResult, CaptureView, TokenizeRequest, Tokenizer } from '../../src/capture/types.js';
import { configSchema } from '../../src/config/schema.js';

/** A manual clock: timers fire only when the test advances time. */
export class FakeClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 10, 23, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time forward, firing due timers in order (including ones they arm). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = end;
  }
}

/** A vault stand-in: keeps (a reference to) what it was handed, never zeroes it itself. */
export class FakeTokenizer implements Tokenizer {
  readonly requests: TokenizeRequest[] = [];
  /** What each request's values were at the moment of the call, as text, for assertions. */
  readonly received: Map<string, string>[] = [];
  failWith: Error | null = null;
  private release: (() => void) | null = null;
  hold = false;

  async tokenize(request: TokenizeRequest): Promise<CaptureResult> {
    this.requests.push(request);
    this.received.push(new Map([...request.values].map(([k, v]) => [k, Buffer.from(v).toString('ascii')])));
    if (this.hold) await new Promise<void>((resolve) => (this.release = resolve));
    if (this.failWith) throw this.failWith;
    const card = request.values.get('card_number');
    return {
      token: `tok_${this.requests.length}`,
      ...(card ? { brand: 'visa', last4: Buffer.from(card.subarray(-4)).toString('ascii') } : {}),
      expiresAt: '2026-11-24T12:00:00.000Z',
    };
  }

  finish(): void {
    this.release?.();
  }
}

export function captureConfig(overrides: Record<string, unknown> = {}) {
  return configSchema.parse({ capture: overrides }).capture;
}

export const AGENT = { type: 'agent', id: 'agent-1' } as const;

export function setup(configOverrides: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const tokenizer = new FakeTokenizer();
  const audit = new MemoryAuditSink();
  const config = captureConfig(configOverrides);
  const service = createCaptureService({ config, tokenizer, audit, clock });
  const views: CaptureView[] = [];
  service.onView((v) => views.push(v));
  return { clock, tokenizer, audit, config, service, views };
}

/** Types keys one by one, 100 ms apart on the caller-audio clock. */
export function typeKeys(session: { press(key: never, atMs: number, source: 'inband'): void }, keys: string, startMs = 0): number {
  let at = startMs;
  for (const key of keys) {
    session.press(key as never, at, 'inband');
    at += 100;
  }
  return at;
}

export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
