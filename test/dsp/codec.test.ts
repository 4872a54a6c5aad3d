import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesPerSample,
  decode,
  decodeAlaw,
  decodeL16,
  decodeMulaw,
  encode,
  encodeAlaw,
  encodeL16,
  encodeMulaw,
  type AudioEncoding,
} from '../../src/dsp/index.js';
import { soxDecode, soxEncode } from './tools.js';

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

function decodeAll(fn: (src: Uint8Array, dst: Int16Array) => void): Int16Array {
  const out = new Int16Array(256);
  fn(ALL_CODES, out);
  return out;
}

/**
 * A ramp over every value of the codec's own linear grid: G.711 is defined on 14-bit (μ-law) and
 * 13-bit (A-law) samples. On that grid every encoder must agree; off it, we truncate 16-bit input
 * (as G.191 does) while sox rounds, so the cross-check stays on the grid.
 */
function gridRamp(step: number): Int16Array {
  return Int16Array.from({ length: 65536 / step }, (_, i) => i * step - 32768);
}

const LAWS = [
  {
    name: 'μ-law',
    sox: 'mu-law' as const,
    decode: decodeMulaw,
    encode: encodeMulaw,
    gridStep: 4,
    endPoints: { 0x00: -32124, 0x7f: 0, 0x80: 32124, 0xff: 0 },
    // 0x7f is μ-law's second zero; zero encodes as 0xff.
    canonical: (code: number) => (code === 0x7f ? 0xff : code),
  },
  {
    name: 'A-law',
    sox: 'a-law' as const,
    decode: decodeAlaw,
    encode: encodeAlaw,
    gridStep: 8,
    endPoints: { 0xd5: 8, 0x55: -8, 0xaa: 32256, 0x2a: -32256 },
    canonical: (code: number) => code,
  },
];

describe.each(LAWS)('G.711 $name', (law) => {
  it('decodes all 256 codes exactly as sox does, with the G.711 end points', () => {
    const ours = decodeAll(law.decode);
    expect(Array.from(ours)).toEqual(Array.from(soxDecode(ALL_CODES, law.sox)));
    for (const [code, value] of Object.entries(law.endPoints)) expect(ours[Number(code)]).toBe(value);
  });

  it('re-encodes every decoded code to itself', () => {
    const back = new Uint8Array(256);
    law.encode(decodeAll(law.decode), back);
    for (let code = 0; code < 256; code++) expect(back[code]).toBe(law.canonical(code));
  });

  it('encodes every 16-bit sample as the grid point at or below it (truncation, as G.191 does)', () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const truncated = all.map((v) => Math.floor(v / law.gridStep) * law.gridStep);
    const ours = new Uint8Array(all.length);
    const expected = new Uint8Array(all.length);
    law.encode(all, ours);
    law.encode(truncated, expected);
    expect(Buffer.from(ours).equals(Buffer.from(expected))).toBe(true);
  });

  it('encodes a ramp over its whole linear grid exactly as sox does', () => {
    const ramp = gridRamp(law.gridStep);
    const ours = new Uint8Array(ramp.length);
    law.encode(ramp, ours);
    expect(Buffer.from(ours).equals(soxEncode(ramp, law.sox))).toBe(true);
  });
});

describe('L16', () => {
  it('is signed 16-bit little-endian', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 0x1234]);
    const bytes = new Uint8Array(12);
    encodeL16(samples, bytes);
    expect(Array.from(bytes)).toEqual([0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x80, 0x34, 0x12]);
    const back = new Int16Array(6);
    decodeL16(bytes, back);
    expect(Array.from(back)).toEqual(Array.from(samples));
  });
});

describe('codec dispatch', () => {
  const encodings: AudioEncoding[] = ['pcmu', 'pcma', 'l16'];

  it('round-trips any frame length: exact for L16, G.711 within half a quantisation step', () => {
    fc.assert(
      fc.property(fc.constantFrom(...encodings), fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 500 }), (encoding, values) => {
        const samples = Int16Array.from(values);
        const bytes = new Uint8Array(samples.length * bytesPerSample(encoding));
        encode(encoding, samples, bytes);
        const back = new Int16Array(samples.length);
        decode(encoding, bytes, back);
        for (let i = 0; i < samples.length; i++) {
          const error = Math.abs(back[i] - samples[i]);
          if (encoding === 'l16') expect(error).toBe(0);
          // G.711 steps grow with magnitude (1/16 of a segment) and the codes stop at ±32124 (μ-law) or ±32256 (A-law).
          else expect(error).toBeLessThanOrEqual(Math.abs(samples[i]) / 16 + 16 + Math.max(0, Math.abs(samples[i]) - 32124));
        }
      }),
    );
  });

  it('G.711 decode then encode is the identity on codes for any frame', () => {
    fc.assert(
      fc.property(fc.constantFrom<AudioEncoding>('pcmu', 'pcma'), fc.uint8Array({ maxLength: 400 }), (encoding, codes) => {
        const samples = new Int16Array(codes.length);
        decode(encoding, codes, samples);
        const back = new Uint8Array(codes.length);
        encode(encoding, samples, back);
        const canonical = encoding === 'pcmu' ? codes.map((c) => (c === 0x7f ? 0xff : c)) : codes;
        expect(Array.from(back)).toEqual(Array.from(canonical));
      }),
    );
  });
});
