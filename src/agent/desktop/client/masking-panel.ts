import type { CallView } from '../../contract.js';
import { h } from './dom.js';
import { decodeSpectrogram, drawSpectrogram } from './spectrogram.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What masking did on the selected call: masked time, keypresses heard, the spectrogram of what the agent heard. */
export class MaskingPanel {
  readonly section: HTMLElement;
  private readonly maskedMs = h('dd', { className: 'masked-ms' });
  private readonly keypresses = h('dd', { className: 'keypresses' });
  private readonly audio = h('dd', { className: 'audio-length' });
  private readonly canvas = h('canvas', { className: 'spectrogram', attrs: { role: 'img' } });
  private readonly caption = h('p', { className: 'hint' });
  private drawn = '';

  constructor() {
    this.section = h('section', { className: 'panel masking', attrs: { 'aria-labelledby': 'masking-title' } }, [
      h('h2', { text: 'What the agent heard', attrs: { id: 'masking-title' } }),
      h('dl', {}, [
        h('dt', { text: 'Masked' }),
        this.maskedMs,
        h('dt', { text: 'Keypresses heard' }),
        this.keypresses,
        h('dt', { text: 'Caller audio' }),
        this.audio,
      ]),
      this.canvas,
      this.caption,
    ]);
  }

  render(call: CallView | undefined): void {
    const masking = call?.masking;
    this.section.hidden = !masking;
    if (!masking) return;
    this.maskedMs.textContent = `${masking.maskedMs} ms`;
    this.keypresses.textContent = String(masking.keypresses);
    this.audio.textContent = seconds(masking.audioMs);
    const spectrogram = masking.spectrogram;
    this.canvas.hidden = !spectrogram;
    this.caption.textContent = spectrogram
      ? 'Spectrogram of the masked stream the agent heard (0–4 kHz, the last minute); the strip below marks masked audio.'
      : 'The spectrogram of what the agent heard appears when the call ends.';
    if (!spectrogram || this.drawn === spectrogram.levels) return;
    this.drawn = spectrogram.levels;
    const decoded = decodeSpectrogram(spectrogram);
    drawSpectrogram(this.canvas, decoded);
    this.canvas.dataset.columns = String(decoded.columns);
    this.canvas.setAttribute('aria-label', `Spectrogram of ${seconds(decoded.columns * spectrogram.columnMs)} of masked audio`);
  }
}
