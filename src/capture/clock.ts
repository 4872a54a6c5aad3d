/** The time source for capture timeouts. Tests inject a fake; production uses the real timers. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    // A pending capture timeout must not keep the process alive on shutdown.
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** One re-armable timer slot on a clock: arming replaces whatever was pending. */
export class TimerSlot {
  private handle: unknown = null;

  constructor(private readonly clock: Clock) {}

  arm(ms: number, fn: () => void): void {
    this.disarm();
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      fn();
    }, ms);
  }

  disarm(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
  }
}
