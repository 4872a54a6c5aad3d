/**
 * Energy of a 16 kHz stream within the 0–4 kHz telephone band: the signal through an 8th-order
 * elliptic low-pass (pass band 0–3.4 kHz within 0.2 dB, at least 65 dB down from 3.9 kHz up),
 * squared and summed. At 16 kHz the detector measures a tone pair's purity against this rather
 * than against the whole band: what lies above 4 kHz never reaches an 8 kHz leg, a G.711 copy or
 * an 8 kHz decoder, so a tone pair buried under loud content up there must still count as pure,
 * exactly as the same pair alone would at 8 kHz. The cut sits below sox's and G.711's 4 kHz, so
 * whatever the band passes, an 8 kHz copy keeps; the safe direction.
 *
 * Coefficients: scipy.signal.ellip(8, 0.2, 65, 3400, output='sos', fs=16000) (ellipord's order
 * for 3.4 / 3.9 kHz, 0.2 / 65 dB), as second-order sections, each normalised to a0 = 1. Sections
 * 2–4 have b0 = b2 = 1, so they save two multiplications each. Group delay at DTMF frequencies
 * is 3–4 samples (0.2 ms), far below a 5 ms block. test/dsp/wideband-band.test.ts measures the
 * response.
 */
const G = 0.012029060592096998;
const B1 = [0.02079964327123391, 0.6684850690713441, 0.0995102854698958, -0.09570920382193522];
const A1 = [-1.0245710515537316, -0.7593425617320281, -0.5302862522656157, -0.4331412503202845];
const A2 = [0.3320343879697527, 0.5814056123193618, 0.8097421458820527, 0.9475039194430097];
/** States this small are flushed to 0 between calls: a decaying filter must not reach subnormal numbers (slow) in digital silence. */
const FLUSH = 1e-30;

export class TelephoneBandEnergy {
  /** Transposed direct form II state: two per section. */
  private readonly state = new Float64Array(8);

  /** Σ y² over samples[start, stop), y the low-passed stream (its state carries across calls). */
  sum(samples: Int16Array, start: number, stop: number): number {
    const st = this.state;
    let p0 = st[0], q0 = st[1], p1 = st[2], q1 = st[3], p2 = st[4], q2 = st[5], p3 = st[6], q3 = st[7];
    const b10 = B1[0], b11 = B1[1], b12 = B1[2], b13 = B1[3];
    const a10 = A1[0], a11 = A1[1], a12 = A1[2], a13 = A1[3];
    const a20 = A2[0], a21 = A2[1], a22 = A2[2], a23 = A2[3];
    let e = 0;
    // The four sections are written out, as the Goertzel filters in filter-bank.ts are: locals, no inner loop per sample.
    for (let n = start; n < stop; n++) {
      const x = samples[n];
      const gx = G * x;
      const y0 = gx + p0;
      p0 = b10 * x - a10 * y0 + q0;
      q0 = gx - a20 * y0;
      const y1 = y0 + p1;
      p1 = b11 * y0 - a11 * y1 + q1;
      q1 = y0 - a21 * y1;
      const y2 = y1 + p2;
      p2 = b12 * y1 - a12 * y2 + q2;
      q2 = y1 - a22 * y2;
      const y3 = y2 + p3;
      p3 = b13 * y2 - a13 * y3 + q3;
      q3 = y2 - a23 * y3;
      e += y3 * y3;
    }
    st[0] = flush(p0); st[1] = flush(q0); st[2] = flush(p1); st[3] = flush(q1);
    st[4] = flush(p2); st[5] = flush(q2); st[6] = flush(p3); st[7] = flush(q3);
    return e;
  }
}

const flush = (v: number): number => (Math.abs(v) < FLUSH ? 0 : v);
