/** L16 as carried here: signed 16-bit little-endian, any frame length. */

/** Decodes `floor(src.length / 2)` samples; a trailing odd byte is not a sample and is ignored. */
export function decodeL16(src: Uint8Array, dst: Int16Array): void {
  const samples = src.length >> 1;
  for (let i = 0, b = 0; i < samples; i++, b += 2) dst[i] = (src[b] | (src[b + 1] << 8)) << 16 >> 16;
}

/** Encodes `src.length` samples into `2 * src.length` bytes of `dst`. */
export function encodeL16(src: Int16Array, dst: Uint8Array): void {
  for (let i = 0, b = 0; i < src.length; i++, b += 2) {
    const s = src[i];
    dst[b] = s & 0xff;
    dst[b + 1] = (s >> 8) & 0xff;
  }
}
