import type { SpectrogramView } from '../../contract.js';

/** Rows under the spectrogram marking the columns that were masked. */
const MASK_ROWS = 4;
/** The level span drawn from dark to bright (dB above the floor). */
const DARK_DB = 30;
const BRIGHT_DB = 110;

export interface DecodedSpectrogram {
  columns: number;
  bins: number;
  /** `bins` levels per column (dB above `floorDb`), columns oldest first. */
  levels: Uint8Array;
  /** Per column, the percentage masked. */
  masked: Uint8Array;
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export function decodeSpectrogram(view: SpectrogramView): DecodedSpectrogram {
  const levels = fromBase64(view.levels);
  const masked = fromBase64(view.masked);
  const columns = Math.min(masked.length, Math.floor(levels.length / Math.max(1, view.bins)));
  return { columns, bins: view.bins, levels, masked };
}

/** Dark blue through red to pale yellow. */
function heat(t: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, t));
  return [Math.round(255 * Math.min(1, x * 1.6)), Math.round(255 * Math.max(0, x * 1.6 - 0.6)), Math.round(90 * (1 - x) + 160 * Math.max(0, x - 0.8) * 5)];
}

/** Draws one pixel per column and bin, low frequencies at the bottom, the masked columns marked below. */
export function drawSpectrogram(canvas: HTMLCanvasElement, spectrogram: DecodedSpectrogram): void {
  const { columns, bins, levels, masked } = spectrogram;
  canvas.width = Math.max(1, columns);
  canvas.height = bins + MASK_ROWS;
  const context = canvas.getContext('2d');
  if (!context || columns === 0) return;
  const image = context.createImageData(canvas.width, canvas.height);
  const put = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    const i = (y * canvas.width + x) * 4;
    image.data[i] = r;
    image.data[i + 1] = g;
    image.data[i + 2] = b;
    image.data[i + 3] = 255;
  };
  for (let c = 0; c < columns; c++) {
    for (let k = 0; k < bins; k++) put(c, bins - 1 - k, heat((levels[c * bins + k] - DARK_DB) / (BRIGHT_DB - DARK_DB)));
    const share = masked[c] / 100;
    for (let y = bins; y < bins + MASK_ROWS; y++) put(c, y, [Math.round(40 + 200 * share), 40, Math.round(40 * (1 - share))]);
  }
  context.putImageData(image, 0, 0);
}
