/** Work a module needs done before the process exits (cancel live captures, close a store). */
export type ShutdownHook = () => void | Promise<void>;

/**
 * Shutdown hooks, run last-registered first (a module registered later may depend on one
 * registered earlier), each awaited, all within one deadline.
 */
export class ShutdownHooks {
  private readonly hooks: { name: string; hook: ShutdownHook }[] = [];

  register(name: string, hook: ShutdownHook): void {
    this.hooks.push({ name, hook });
  }

  /**
   * Calls every hook, even past the deadline (a synchronous close still runs after a hook
   * that hung); the deadline only limits how long each is awaited. Returns the names of hooks
   * that failed or had not finished in time.
   */
  async run(deadline: number, onError: (name: string, err: unknown) => void): Promise<string[]> {
    const unfinished: string[] = [];
    for (const { name, hook } of [...this.hooks].reverse()) {
      const remaining = Math.max(0, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), remaining)));
      try {
        const outcome = await Promise.race([Promise.resolve().then(hook), timedOut]);
        if (outcome === 'timeout') unfinished.push(name);
      } catch (err) {
        onError(name, err);
        unfinished.push(name);
      } finally {
        clearTimeout(timer);
      }
    }
    this.hooks.length = 0;
    return unfinished;
  }
}
