import type { Logger } from '../audit/logger.js';
import type { CaptureService, CaptureView } from '../capture/types.js';
import type { NodeBus } from './ports.js';
import type { RedisConnections } from './redis.js';

/** The latest view of a capture and the node that holds its session. */
export interface LocatedView {
  view: CaptureView;
  node: string;
}

/**
 * Capture views as every node sees them. In cluster mode each node broadcasts its captures'
 * views (redacted, as the agent sees them: never a value) and keeps the latest of each in Redis,
 * so that any node can answer for a capture and fan its views out.
 */
export interface CaptureViewSource {
  /** Every view change of every node's captures, in order per capture. */
  onView(listener: (view: CaptureView) => void): () => void;
  /** The latest view of a capture on any node; this node's own sessions first. */
  find(id: string): Promise<LocatedView | undefined>;
  /** Views of recent captures known when this node started (other nodes' included). */
  recent(): CaptureView[];
  close(): void;
}

export const VIEW_TOPIC = 'capture.view';

/** A single node: the capture service is every capture there is. */
export function localCaptureViews(captures: CaptureService, selfId: string): CaptureViewSource {
  return {
    onView: (listener) => captures.onView(listener),
    async find(id) {
      const session = captures.get(id);
      return session ? { view: session.view(), node: selfId } : undefined;
    },
    recent: () => [],
    close: () => undefined,
  };
}

/**
 * Cluster mode: views of this node's captures go to the `capture.view` topic and to
 * `capture:{id}` (JSON LocatedView, expiring `retainMs` after its last change), indexed by time
 * in the sorted set `captures` so that a node starting later loads the recent ones.
 */
export class RedisCaptureViews implements CaptureViewSource {
  private readonly indexKey: string;
  private loaded: CaptureView[] = [];
  /** The latest view of each local capture that did not reach Redis: shared again on reconnection. */
  private readonly unsent = new Map<string, CaptureView>();
  private readonly detach: (() => void)[] = [];

  private constructor(
    private readonly redis: RedisConnections,
    private readonly bus: NodeBus,
    private readonly captures: CaptureService,
    private readonly selfId: string,
    private readonly retainMs: number,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {
    this.indexKey = redis.name('captures');
    this.detach.push(
      captures.onView((view) => this.share(view)),
      redis.onReady(() => {
        for (const view of [...this.unsent.values()]) this.share(view);
      }),
    );
  }

  static async open(options: {
    redis: RedisConnections;
    bus: NodeBus;
    captures: CaptureService;
    selfId: string;
    retainMs: number;
    logger: Logger;
    now?: () => number;
  }): Promise<RedisCaptureViews> {
    const views = new RedisCaptureViews(options.redis, options.bus, options.captures, options.selfId, options.retainMs, options.logger, options.now ?? Date.now);
    await views.load();
    return views;
  }

  onView(listener: (view: CaptureView) => void): () => void {
    return this.bus.subscribe(VIEW_TOPIC, (message) => listener(message as CaptureView));
  }

  async find(id: string): Promise<LocatedView | undefined> {
    const session = this.captures.get(id);
    if (session) return { view: session.view(), node: this.selfId };
    const stored = await this.redis.command.get(this.viewKey(id));
    return stored === null ? undefined : (JSON.parse(stored) as LocatedView);
  }

  recent(): CaptureView[] {
    return this.loaded;
  }

  close(): void {
    for (const detach of this.detach.splice(0)) detach();
    this.loaded = [];
  }

  private viewKey(id: string): string {
    return this.redis.name(`capture:${id}`);
  }

  private share(view: CaptureView): void {
    this.bus.publish(VIEW_TOPIC, view);
    const located: LocatedView = { view, node: this.selfId };
    const at = this.now();
    this.redis.command
      .multi()
      .set(this.viewKey(view.id), JSON.stringify(located), 'PX', this.retainMs)
      .zadd(this.indexKey, at, view.id)
      .zremrangebyscore(this.indexKey, '-inf', at - this.retainMs)
      .exec()
      .then(() => {
        if ((this.unsent.get(view.id)?.version ?? Infinity) <= view.version) this.unsent.delete(view.id);
      })
      .catch((err: unknown) => {
        if (this.unsent.size === 0) this.logger.warn({ err: { message: (err as Error).message } }, 'capture views kept locally: Redis unreachable');
        if ((this.unsent.get(view.id)?.version ?? -1) < view.version) this.unsent.set(view.id, view);
      });
  }

  private async load(): Promise<void> {
    const ids = await this.redis.command.zrangebyscore(this.indexKey, this.now() - this.retainMs, '+inf');
    if (ids.length === 0) return;
    const stored = await this.redis.command.mget(...ids.map((id) => this.viewKey(id)));
    this.loaded = stored.filter((s): s is string => s !== null).map((s) => (JSON.parse(s) as LocatedView).view);
  }
}
