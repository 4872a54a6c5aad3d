import { button, h, labelled } from './dom.js';
import { isLive, type DesktopStore } from './store.js';
import type { CallView } from '../../contract.js';
import { verificationSummary } from './words.js';

const CAPTURE_FIELDS = { card: ['card_number', 'expiry', 'cvv'], id: ['ssn'] };

export interface CallPanelActions {
  /** The agent picked another call. */
  select(callSid: string): void;
  startCapture(control: HTMLButtonElement, fields: string[]): void;
}

function callTitle(call: CallView): string {
  return `Call from ${call.from ?? 'unknown number'}`;
}

/** The call section: a chooser when there are several, the selected call, and the capture buttons. */
export class CallPanel {
  readonly section: HTMLElement;
  private readonly select = h('select');
  private readonly chooser = labelled('call-select', 'Call', this.select);
  private readonly text = h('p', { className: 'call', text: 'No active call.' });
  private readonly verification = h('p', { className: 'verification' });
  private readonly captureCard = button('Capture card');
  private readonly captureId = button('Capture ID');

  constructor(actions: CallPanelActions) {
    this.section = h('section', { className: 'panel', attrs: { 'aria-labelledby': 'call-title' } }, [
      h('h2', { text: 'Call', attrs: { id: 'call-title' } }),
      this.chooser,
      this.text,
      this.verification,
      h('div', { className: 'actions' }, [this.captureCard, this.captureId]),
    ]);
    this.select.addEventListener('change', () => actions.select(this.select.value));
    this.captureCard.addEventListener('click', () => actions.startCapture(this.captureCard, CAPTURE_FIELDS.card));
    this.captureId.addEventListener('click', () => actions.startCapture(this.captureId, CAPTURE_FIELDS.id));
  }

  render(store: DesktopStore): void {
    const calls = store.sortedCalls();
    store.selectDefault();
    this.chooser.hidden = calls.length < 2;
    const listed = [...this.select.options].map((o) => o.value).join();
    if (calls.length >= 2 && listed !== calls.map((c) => c.callSid).join()) {
      this.select.replaceChildren(...calls.map((c) => h('option', { text: callTitle(c), attrs: { value: c.callSid } })));
    }
    this.select.value = store.selectedCall ?? '';
    const call = store.selected();
    this.text.textContent = call ? `${callTitle(call)} · ${call.state}` : 'No active call.';
    this.verification.hidden = !call;
    this.verification.textContent = call ? verificationSummary(call.verification) : '';
    const view = store.currentView();
    const idle = Boolean(call && call.state === 'bridged' && !(view && isLive(view)));
    this.captureCard.disabled = !idle;
    this.captureId.disabled = !idle;
  }
}
