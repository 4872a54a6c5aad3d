/**
 * What a REST stand-in received, in order, and a way to wait for the first entry that matches
 * (already seen, or still to come).
 */
export class RequestLog<T> {
  readonly entries: T[] = [];
  private readonly waiters: { matches: (entry: T) => boolean; resolve: (entry: T) => void }[] = [];

  constructor(private readonly what: string) {}

  record(entry: T): void {
    this.entries.push(entry);
    for (const waiter of [...this.waiters]) {
      if (!waiter.matches(entry)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(entry);
    }
  }

  waitFor(matches: (entry: T) => boolean, timeoutMs = 5000): Promise<T> {
    const seen = this.entries.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { matches, resolve: (entry: T) => (clearTimeout(timer), resolve(entry)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching ${this.what} reached the stand-in`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
