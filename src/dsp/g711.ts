/**
 * ITU-T G.711 μ-law and A-law, table-driven. The tables are built once from the reference
 * segment algorithm (the Sun/CCITT code that sox and most telephony stacks share), so every
 * frame conversion is a single lookup per sample. G.711 works on 14-bit (μ) and 13-bit (A)
 * linear samples; 16-bit input is truncated to that grid by the arithmetic shift, as G.191 does,
 * so the encode tables are indexed by the shifted sample: 16 KiB and 8 KiB, which stay in the
 * first-level cache where a table over all 65,536 inputs would not.
 */

const SIGN_BIT = 0x80;
const QUANT_MASK = 0x0f;
const SEG_SHIFT = 4;
const SEG_MASK = 0x70;
const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;
const ULAW_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number, ends: readonly number[]): number {
  for (let seg = 0; seg < ends.length; seg++) if (value <= ends[seg]) return seg;
  return ends.length;
}

function linearToUlaw(sample: number): number {
  let value = sample >> 2;
  let mask = 0xff;
  if (value < 0) {
    value = -value;
    mask = 0x7f;
  }
  if (value > ULAW_CLIP) value = ULAW_CLIP;
  value += ULAW_BIAS >> 2;
  const seg = segment(value, ULAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((value >> (seg + 1)) & 0xf)) ^ mask;
}

function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & QUANT_MASK) << 3) + ULAW_BIAS) << ((u & SEG_MASK) >> SEG_SHIFT);
  return u & SIGN_BIT ? ULAW_BIAS - t : t - ULAW_BIAS;
}

function linearToAlaw(sample: number): number {
  let value = sample >> 3;
  let mask: number;
  if (value >= 0) {
    mask = 0xd5;
  } else {
    mask = 0x55;
    value = -value - 1;
  }
  const seg = segment(value, ALAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const quant = seg < 2 ? (value >> 1) & QUANT_MASK : (value >> seg) & QUANT_MASK;
  return ((seg << SEG_SHIFT) | quant) ^ mask;
}

function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & QUANT_MASK) << 4;
  const seg = (a & SEG_MASK) >> SEG_SHIFT;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & SIGN_BIT ? t : -t;
}

function decodeTable(decodeOne: (code: number) => number): Int16Array {
  const table = new Int16Array(256);
  for (let code = 0; code < 256; code++) table[code] = decodeOne(code);
  return table;
}

/** Indexed by the sample's top `bits` bits (`(sample >> (16 − bits)) & (2^bits − 1)`): the grid the codec works on. */
function encodeTable(encodeOne: (sample: number) => number, bits: number): Uint8Array {
  const shift = 16 - bits;
  const table = new Uint8Array(1 << bits);
  for (let sample = -32768; sample < 32768; sample += 1 << shift) table[(sample >> shift) & ((1 << bits) - 1)] = encodeOne(sample);
  return table;
}

const ULAW_DECODE = decodeTable(ulawToLinear);
const ULAW_ENCODE = encodeTable(linearToUlaw, 14);
const ALAW_DECODE = decodeTable(alawToLinear);
const ALAW_ENCODE = encodeTable(linearToAlaw, 13);

/** Decodes `src.length` μ-law bytes into `dst`. */
export function decodeMulaw(src: Uint8Array, dst: Int16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = ULAW_DECODE[src[i]];
}

/** Encodes `src.length` samples into μ-law bytes in `dst`. */
export function encodeMulaw(src: Int16Array, dst: Uint8Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = ULAW_ENCODE[(src[i] >> 2) & 0x3fff];
}

/** Decodes `src.length` A-law bytes into `dst`. */
export function decodeAlaw(src: Uint8Array, dst: Int16Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = ALAW_DECODE[src[i]];
}

/** Encodes `src.length` samples into A-law bytes in `dst`. */
export function encodeAlaw(src: Int16Array, dst: Uint8Array): void {
  for (let i = 0; i < src.length; i++) dst[i] = ALAW_ENCODE[(src[i] >> 3) & 0x1fff];
}
