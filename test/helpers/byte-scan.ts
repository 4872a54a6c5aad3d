/** Every encoding a value could be written in: ASCII, UTF-16 little- and big-endian. */
export function encodings(value: string): Buffer[] {
  return [Buffer.from(value, 'latin1'), Buffer.from(value, 'utf16le'), Buffer.from(value, 'utf16le').swap16()];
}

/** Whether `bytes` hold `value` in any of its encodings. */
export function holds(bytes: Buffer, value: string): boolean {
  return encodings(value).some((needle) => bytes.includes(needle));
}
