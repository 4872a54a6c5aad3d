import type { CaptureView } from '../capture/types.js';
import type { CaptureViewSource } from '../cluster/capture-views.js';
import type { CallRegistry } from '../state/calls.js';
import { agentCallView } from './call-view.js';
import type { Principal } from './auth.js';
import type { AgentEvent } from './contract.js';
import { maySeeCall } from './visibility.js';

export type { AgentEvent } from './contract.js';

/** Receives serialised events; one string per event, shared by every subscriber. */
export type EventSink = (json: string) => void;

export interface EventsHub {
  /** The state a newly connected principal resumes with: its live calls and recent captures. */
  snapshot(principal: Principal): string[];
  subscribe(principal: Principal, sink: EventSink): () => void;
  close(): void;
}

const FINISHED = new Set(['complete', 'failed', 'cancelled']);
/** A bound on remembered views, whatever the capture rate. */
const MAX_VIEWS = 10_000;

/**
 * Fans capture views and call changes (of every node, in cluster mode) out to the principals
 * allowed to see them. It remembers the latest view of each capture (finished ones for
 * `retainMs`), starting from the recent views the source knew, so that a reconnect resumes where
 * it left off. It knows nothing of sockets.
 */
export function createEventsHub(views: Pick<CaptureViewSource, 'onView' | 'recent'>, calls: CallRegistry, retainMs = 10 * 60_000, now = Date.now): EventsHub {
  const latest = new Map<string, CaptureView>();
  const subscribers = new Map<EventSink, Principal>();

  const forget = () => {
    const horizon = now() - retainMs;
    for (const [id, view] of latest) {
      if (latest.size > MAX_VIEWS || (FINISHED.has(view.state) && Date.parse(view.updatedAt) < horizon)) latest.delete(id);
    }
  };

  const publish = (event: AgentEvent, callSid: string) => {
    if (subscribers.size === 0) return;
    const call = calls.get(callSid);
    let json: string | undefined;
    for (const [sink, principal] of subscribers) {
      if (!maySeeCall(principal, call)) continue;
      json ??= JSON.stringify(event);
      sink(json);
    }
  };

  /** False for a view older than the one remembered. */
  const remember = (view: CaptureView): boolean => {
    const previous = latest.get(view.id);
    if (previous && previous.version >= view.version) return false;
    // Re-inserted so that map order is recency order and the oldest go first.
    latest.delete(view.id);
    latest.set(view.id, view);
    if (latest.size > MAX_VIEWS || FINISHED.has(view.state)) forget();
    return true;
  };

  for (const view of views.recent()) remember(view);
  const offView = views.onView((view) => {
    if (remember(view)) publish({ type: 'capture', view }, view.callSid);
  });
  const offCall = calls.onChange((call) => publish({ type: 'call', call: agentCallView(call) }, call.callSid));

  return {
    snapshot(principal) {
      forget();
      const liveCalls = calls.list().filter((call) => call.state !== 'ended' && maySeeCall(principal, call));
      const views = [...latest.values()].filter((view) => maySeeCall(principal, calls.get(view.callSid)));
      return [
        ...liveCalls.map((call) => JSON.stringify({ type: 'call', call: agentCallView(call) } satisfies AgentEvent)),
        ...views.map((view) => JSON.stringify({ type: 'capture', view } satisfies AgentEvent)),
      ];
    },
    subscribe(principal, sink) {
      subscribers.set(sink, principal);
      return () => subscribers.delete(sink);
    },
    close() {
      offView();
      offCall();
      subscribers.clear();
      latest.clear();
    },
  };
}
