import { dbm0ToPower } from '../dsp/index.js';
import type { ChannelLayout } from './resample.js';

/**
 * The scan's silence gate: which stretches of a channel are too quiet to hold a keypress, so the
 * resampler need not filter them (it passes silence instead). Recordings are mostly pauses, and a
 * pause costs the gate one multiply-add per sample instead of the filter chain's dozen.
 *
 * A unit of UNIT_MS is quiet when its mean power is under GATE_DBM0: the Q.24 level below which a
 * receiver must not respond to one tone (−55 dBm0), 17 dB under the detector's per-tone cut (−38)
 * and 10 dB under the masker's suspicion level (−45). A 20 ms window of a tone pair the detector
 * could accept has at least −35 dBm0, so each 10 ms unit it touches reads well above the gate even
 * when the window straddles two units. A unit is silenced only when every unit within MARGIN_MS of
 * it is quiet too: the filters' reach, the detector's onset and end look-back (80 ms) and the
 * masker's margins all stay inside audio that is passed untouched.
 */

export const UNIT_MS = 10;
const GATE_DBM0 = -55;
const MARGIN_MS = 100;

/** Frames per gate unit at `rate`. */
export const unitFrames = (rate: number): number => Math.max(1, Math.round((rate * UNIT_MS) / 1000));

/** Per unit of one channel of `source` at `rate`: 1 where the resampler may pass silence. */
export function silentUnits(source: Int16Array, { channels, channel }: ChannelLayout, rate: number): Uint8Array {
  const unit = unitFrames(rate);
  const frames = Math.floor(source.length / channels);
  const units = Math.ceil(frames / unit);
  const loud = new Uint8Array(units);
  const threshold = dbm0ToPower(GATE_DBM0);
  for (let u = 0; u < units; u++) {
    const n = Math.min(unit, frames - u * unit);
    loud[u] = exceeds(source, (u * unit) * channels + channel, n, channels, threshold * n) ? 1 : 0;
  }
  const margin = Math.ceil(MARGIN_MS / UNIT_MS);
  const silent = new Uint8Array(units);
  // Units since the last loud one, looking back; then the same looking ahead.
  for (let u = 0, since = margin + 1; u < units; u++) {
    since = loud[u] ? 0 : since + 1;
    silent[u] = since > margin ? 1 : 0;
  }
  for (let u = units - 1, until = margin + 1; u >= 0; u--) {
    until = loud[u] ? 0 : until + 1;
    if (until <= margin) silent[u] = 0;
  }
  return silent;
}

/** Frames summed between checks against the limit: loud audio is known loud after its first few. */
const CHUNK = 64;

/** Whether the sum of x² over `n` frames from `start` (`stride` apart) exceeds `limit`. */
function exceeds(source: Int16Array, start: number, n: number, stride: number, limit: number): boolean {
  const end = start + n * stride;
  let energy = 0;
  for (let k = start; k < end; ) {
    const stop = Math.min(end, k + CHUNK * stride);
    // Two partial sums break the dependency chain of one accumulator.
    let e0 = 0;
    let e1 = 0;
    for (; k + stride < stop; k += 2 * stride) {
      const x0 = source[k];
      const x1 = source[k + stride];
      e0 += x0 * x0;
      e1 += x1 * x1;
    }
    if (k < stop) {
      const x = source[k];
      e0 += x * x;
      k += stride;
    }
    energy += e0 + e1;
    if (energy > limit) return true;
  }
  return false;
}
