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

describe('G.711 μ-law', () => {
  it('decodes all 256 codes exactly as sox does, with the G.711 end points', () => {
    const ours = decodeAll(decodeMulaw);
    expect(Array.from(ours)).toEqual(Array.from(soxDecode(ALL_CODES, 'mu-law')));
    expect([ours[0x00], ours[0x7f], ours[0x80], ours[0xff]]).toEqual([-32124, 0, 32124, 0]);
  });

  it('re-encodes every decoded code to itself (0x7f is the second zero, encoded as 0xff)', () => {
    const back = new Uint8Array(256);
    encodeMulaw(decodeAll(decodeMulaw), back);
    for (let code = 0; code < 256; code++) expect(back[code]).toBe(code === 0x7f ? 0xff : code);
  });

  it('encodes a ramp over its whole linear grid exactly as sox does', () => {
    const ramp = gridRamp(4);
    const ours = new Uint8Array(ramp.length);
    encodeMulaw(ramp, ours);
    expect(Buffer.from(ours).equals(soxEncode(ramp, 'mu-law'))).toBe(true);
  });
});

describe('G.711 A-law', () => {
  it('decodes all 256 codes exactly as sox does, with the G.711 end points', () => {
    const ours = decodeAll(decodeAlaw);
    expect(Array.from(ours)).toEqual(Array.from(soxDecode(ALL_CODES, 'a-law')));
    expect([ours[0xd5], ours[0x55], ours[0xaa], ours[0x2a]]).toEqual([8, -8, 32256, -32256]);
  });

  it('re-encodes every decoded code to itself', () => {
    const back = new Uint8Array(256);
    encodeAlaw(decodeAll(decodeAlaw), back);
    expect(Array.from(back)).toEqual(Array.from(ALL_CODES));
  });

  it('encodes a ramp over its whole linear grid exactly as sox does', () => {
    const ramp = gridRamp(8);
    const ours = new Uint8Array(ramp.length);
    encodeAlaw(ramp, ours);
    expect(Buffer.from(ours).equals(soxEncode(ramp, 'a-law'))).toBe(true);
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
          // G.711 steps grow with magnitude: 1/16 of a segment, so the error stays under |x|/16 + a small floor.
          else expect(error).toBeLessThanOrEqual(Math.abs(samples[i]) / 16 + 16 + (Math.abs(samples[i]) > 32000 ? 700 : 0));
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
