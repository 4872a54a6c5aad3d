import type { CallView, CaptureView } from '../../contract.js';

export function isLive(view: CaptureView): boolean {
  return view.state === 'active' || view.state === 'tokenizing';
}

/**
 * The calls and captures the signed-in agent may see, newest view of each capture kept. An ended
 * call stays (read-only, with its capture and masking figures) until another call starts.
 */
export class DesktopStore {
  readonly calls = new Map<string, CallView>();
  readonly views = new Map<string, CaptureView>();
  selectedCall: string | null = null;

  applyCall(call: CallView): void {
    if (call.state !== 'ended') {
      for (const [sid, held] of this.calls) if (held.state === 'ended' && sid !== call.callSid) this.calls.delete(sid);
    } else if ([...this.calls.values()].some((held) => held.state !== 'ended' && held.callSid !== call.callSid)) {
      this.calls.delete(call.callSid);
      return;
    }
    this.calls.set(call.callSid, call);
  }

  /** Keeps the newest view of each capture; returns the view it replaced, or null when the given one is stale. */
  applyView(view: CaptureView): { previous: CaptureView | undefined } | null {
    const held = this.views.get(view.id);
    if (held && held.version >= view.version) return null;
    this.views.set(view.id, view);
    return { previous: held };
  }

  /** Live calls first, newest first; an ended call last. */
  sortedCalls(): CallView[] {
    return [...this.calls.values()].sort((a, b) => Number(a.state === 'ended') - Number(b.state === 'ended') || b.startedAt.localeCompare(a.startedAt));
  }

  /** Keeps the selection on a held call, else picks the first. */
  selectDefault(): void {
    if (!this.selectedCall || !this.calls.has(this.selectedCall)) this.selectedCall = this.sortedCalls()[0]?.callSid ?? null;
  }

  selected(): CallView | undefined {
    return this.selectedCall ? this.calls.get(this.selectedCall) : undefined;
  }

  /** The newest capture of the selected call. */
  currentView(): CaptureView | undefined {
    let newest: CaptureView | undefined;
    for (const view of this.views.values()) {
      if (view.callSid !== this.selectedCall) continue;
      if (!newest || view.createdAt > newest.createdAt) newest = view;
    }
    return newest;
  }

  clear(): void {
    this.calls.clear();
    this.views.clear();
    this.selectedCall = null;
  }
}
