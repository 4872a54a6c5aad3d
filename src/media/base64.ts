/**
 * Base64 straight between byte buffers, for the media path: Node's codecs go through strings,
 * which allocate per frame. Standard alphabet, padded, as the JSON media streams send it.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENCODE = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const INVALID = 255;
const DECODE = new Uint8Array(256).fill(INVALID);
for (let i = 0; i < ENCODE.length; i++) DECODE[ENCODE[i]] = i;
const PAD = 0x3d;
/** The two characters of every 12-bit value (first in the high byte): one lookup per two characters when encoding. */
const ENCODE_PAIRS = new Uint16Array(4096);
for (let v = 0; v < 4096; v++) ENCODE_PAIRS[v] = (ENCODE[v >> 6] << 8) | ENCODE[v & 63];

/**
 * Decodes `src[start, end)` into `into`. Returns the byte count, or -1 unless the text is strict
 * base64 (length a multiple of 4, alphabet only, `=` only as one or two final characters) that
 * fits in `into`. Accepts exactly what `/^[A-Za-z0-9+/]*={0,2}$/` with a length multiple of 4
 * accepts, and yields the bytes `Buffer.from(text, 'base64')` would.
 */
export function decodeBase64Into(src: Uint8Array, start: number, end: number, into: Uint8Array): number {
  const length = end - start;
  if (length % 4 !== 0) return -1;
  if (length === 0) return 0;
  const pad = src[end - 1] === PAD ? (src[end - 2] === PAD ? 2 : 1) : 0;
  const size = (length / 4) * 3 - pad;
  if (size > into.length) return -1;
  const full = end - (pad ? 4 : 0);
  let o = 0;
  for (let i = start; i < full; i += 4) {
    const a = DECODE[src[i]];
    const b = DECODE[src[i + 1]];
    const c = DECODE[src[i + 2]];
    const d = DECODE[src[i + 3]];
    // Valid sextets are below 64; INVALID (255) sets the high bits.
    if ((a | b | c | d) > 63) return -1;
    into[o++] = (a << 2) | (b >> 4);
    into[o++] = ((b & 15) << 4) | (c >> 2);
    into[o++] = ((c & 3) << 6) | d;
  }
  if (pad) {
    const a = DECODE[src[full]];
    const b = DECODE[src[full + 1]];
    const c = pad === 1 ? DECODE[src[full + 2]] : 0;
    if ((a | b | c) > 63) return -1;
    into[o++] = (a << 2) | (b >> 4);
    if (pad === 1) into[o++] = ((b & 15) << 4) | (c >> 2);
  }
  return o;
}

/** Bytes of base64 text for `n` bytes. */
export const base64Length = (n: number): number => Math.ceil(n / 3) * 4;

/** Encodes `src[0, n)` as padded base64 into `into` from `at`; returns the offset after the text. */
export function encodeBase64Into(src: Uint8Array, n: number, into: Uint8Array, at: number): number {
  let o = at;
  const whole = n - (n % 3);
  for (let i = 0; i < whole; i += 3) {
    const v = (src[i] << 16) | (src[i + 1] << 8) | src[i + 2];
    const high = ENCODE_PAIRS[v >> 12];
    const low = ENCODE_PAIRS[v & 4095];
    into[o++] = high >> 8;
    into[o++] = high & 255;
    into[o++] = low >> 8;
    into[o++] = low & 255;
  }
  if (n - whole === 1) {
    const v = src[whole];
    into[o++] = ENCODE[v >> 2];
    into[o++] = ENCODE[(v & 3) << 4];
    into[o++] = PAD;
    into[o++] = PAD;
  } else if (n - whole === 2) {
    const v = (src[whole] << 8) | src[whole + 1];
    into[o++] = ENCODE[v >> 10];
    into[o++] = ENCODE[(v >> 4) & 63];
    into[o++] = ENCODE[(v & 15) << 2];
    into[o++] = PAD;
  }
  return o;
}

/**
 * Whether strict base64 text `src[start, end)` (as `decodeBase64Into` accepts it) is the text
 * `encodeBase64Into` would write for its bytes: the bits a final padded group leaves over are zero.
 */
export function isCanonicalBase64(src: Uint8Array, start: number, end: number): boolean {
  if (end - start < 4 || src[end - 1] !== PAD) return true;
  return src[end - 2] === PAD ? (DECODE[src[end - 3]] & 15) === 0 : (DECODE[src[end - 2]] & 3) === 0;
}
