import type { CaptureView, FieldView } from '../../contract.js';
import { button, h, labelled } from './dom.js';
import { isLive } from './store.js';
import { captureSummary, digitsText, fieldLabel, lastFour, sentence } from './words.js';

/** A digit count beyond any real field; bounds the dots drawn whatever the server says. */
const MAX_DOTS = 32;

interface FieldRow {
  name: string;
  row: HTMLLIElement;
  dots: HTMLSpanElement;
  brand: HTMLSpanElement;
  check: HTMLSpanElement;
  error: HTMLSpanElement;
  reset: HTMLButtonElement;
}

export interface CapturePanelActions {
  reset(control: HTMLButtonElement, captureId: string, field: string): void;
  cancel(control: HTMLButtonElement): void;
  copy(token: string, input: HTMLInputElement): void;
}

/** The capture section: one row per field (dots, brand, ✓, error, reset), the result and the token. */
export class CapturePanel {
  readonly section: HTMLElement;
  private readonly stateText = h('p', { className: 'capture-state' });
  private readonly fieldList = h('ul', { className: 'fields' });
  private readonly resultBrand = h('dd');
  private readonly resultLast4 = h('dd');
  private readonly resultToken = h('input', { className: 'token', attrs: { type: 'text', readonly: '' } });
  private readonly resultBox: HTMLDivElement;
  private readonly cancelButton = button('Cancel capture');
  private rows: FieldRow[] = [];
  private rowsFor: string | null = null;

  constructor(private readonly actions: CapturePanelActions) {
    const copyButton = button('Copy token');
    copyButton.addEventListener('click', () => this.actions.copy(this.resultToken.value, this.resultToken));
    this.cancelButton.addEventListener('click', () => this.actions.cancel(this.cancelButton));
    this.resultBox = h('div', { className: 'result' }, [
      h('dl', {}, [h('dt', { text: 'Brand' }), this.resultBrand, h('dt', { text: 'Card ending' }), this.resultLast4]),
      labelled('result-token', 'Token', this.resultToken),
      copyButton,
    ]);
    this.section = h('section', { className: 'panel capture', attrs: { 'aria-labelledby': 'capture-title' } }, [
      h('h2', { text: 'Capture', attrs: { id: 'capture-title' } }),
      this.stateText,
      this.fieldList,
      this.resultBox,
      h('div', { className: 'actions' }, [this.cancelButton]),
    ]);
  }

  render(view: CaptureView | undefined): void {
    this.section.hidden = !view;
    if (!view) return;
    this.stateText.textContent = captureSummary(view);
    if (this.rowsFor !== view.id) {
      this.rows = view.fields.map((f) => this.fieldRow(view.id, f.name));
      this.rowsFor = view.id;
      this.fieldList.replaceChildren(...this.rows.map((r) => r.row));
    }
    for (const row of this.rows) {
      const field = view.fields.find((f) => f.name === row.name);
      if (field) renderField(row, field, view.state === 'active');
    }
    const result = view.state === 'complete' ? view.result : null;
    this.resultBox.hidden = !result;
    this.resultBrand.textContent = result?.brand ?? '—';
    this.resultLast4.textContent = result?.last4 ? `•••• ${lastFour(result.last4)}` : '—';
    this.resultToken.value = result?.token ?? '';
    this.cancelButton.hidden = !isLive(view);
    this.cancelButton.disabled = view.state !== 'active';
  }

  private fieldRow(captureId: string, name: string): FieldRow {
    const reset = button(`Reset ${fieldLabel(name)}`);
    reset.addEventListener('click', () => this.actions.reset(reset, captureId, name));
    const row: FieldRow = {
      name,
      row: h('li', { className: 'field', attrs: { 'data-field': name } }),
      dots: h('span', { className: 'dots', attrs: { role: 'img' } }),
      brand: h('span', { className: 'brand' }),
      check: h('span', { className: 'check' }),
      error: h('span', { className: 'field-error' }),
      reset,
    };
    row.row.append(h('span', { className: 'label', text: fieldLabel(name) }), row.dots, row.brand, row.check, row.error, reset);
    return row;
  }
}

function renderField(row: FieldRow, field: FieldView, editable: boolean): void {
  const count = Math.max(0, Math.min(MAX_DOTS, field.digitCount | 0));
  if (row.dots.childElementCount !== count) {
    row.dots.replaceChildren(...Array.from({ length: count }, () => h('span', { className: 'dot', text: '•', attrs: { 'aria-hidden': 'true' } })));
  }
  row.dots.setAttribute('aria-label', `${digitsText(count)} entered`);
  row.row.dataset.state = field.state;
  row.brand.textContent = field.brand ?? '';
  row.check.textContent = field.valid === true ? '✓' : '';
  if (field.valid === true) row.check.setAttribute('aria-label', 'well-formed');
  else row.check.removeAttribute('aria-label');
  row.error.textContent = field.error ? sentence(field.error) : '';
  row.reset.hidden = !editable;
}
