import type { CaptureView, WidgetMessage } from '../../contract.js';
import { lastFour } from './words.js';

/** The widget is the same page served at `/desktop/widget`, laid out compactly for an iframe. */
export const WIDGET = location.pathname.endsWith('/widget');
/** A JWT longer than this is refused before any parsing. */
const MAX_TOKEN_LENGTH = 16_384;

/**
 * The embedding page's side of the widget: `toneguard.ready` and `toneguard.result` go out, one
 * copy per allowed origin (the browser delivers only the one matching the parent);
 * `toneguard.token` comes in, only from the parent window at an allowed origin.
 */
export class WidgetMessaging {
  /** Capture ids already reported to the embedding page. */
  private readonly reported = new Set<string>();

  constructor(private readonly embedOrigins: () => readonly string[]) {}

  tellParent(message: WidgetMessage): void {
    if (window.parent === window) return;
    for (const origin of this.embedOrigins()) window.parent.postMessage(message, origin);
  }

  reportResult(view: CaptureView): void {
    if (this.reported.has(view.id) || !view.result) return;
    this.reported.add(view.id);
    const { brand, token } = view.result;
    this.tellParent({ type: 'toneguard.result', captureId: view.id, brand: brand ?? null, last4: lastFour(view.result.last4) || null, token });
  }

  /** Listens for the parent's token and announces that the widget is ready for it. */
  start(onToken: (token: string) => void): void {
    window.addEventListener('message', (event: MessageEvent) => {
      if (event.source !== window.parent || !this.embedOrigins().includes(event.origin)) return;
      const data = event.data as Partial<WidgetMessage> | null;
      if (data?.type !== 'toneguard.token' || typeof data.token !== 'string' || data.token.length > MAX_TOKEN_LENGTH) return;
      onToken(data.token);
    });
    this.tellParent({ type: 'toneguard.ready' });
  }
}
