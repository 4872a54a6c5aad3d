/**
 * Captured digits live in `Uint8Array`s of ASCII codes so they can be zeroed; JavaScript strings
 * cannot. Validators also accept strings, for callers that already hold one (tests, connectors).
 */
export type DigitInput = Uint8Array | string;

const ZERO = 0x30;

/** The numeric value (0-9) of the i-th digit, or NaN when it is not an ASCII digit. */
export function digitAt(input: DigitInput, index: number): number {
  const code = typeof input === 'string' ? input.charCodeAt(index) : (input[index] ?? Number.NaN);
  const value = code - ZERO;
  return value >= 0 && value <= 9 ? value : Number.NaN;
}

export function allDigits(input: DigitInput): boolean {
  for (let i = 0; i < input.length; i++) if (Number.isNaN(digitAt(input, i))) return false;
  return true;
}

/** The number formed by digits [start, end): for short slices such as an IIN prefix or a month. */
export function numberAt(input: DigitInput, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + digitAt(input, i);
  return value;
}

export function asciiDigits(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

/** A fixed-capacity, zeroable buffer of ASCII digits for one field entry. */
export class DigitBuffer {
  private readonly bytes: Uint8Array;
  private count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  get capacity(): number {
    return this.bytes.length;
  }

  /** Returns false when full. */
  push(digit: string): boolean {
    if (this.count >= this.bytes.length) return false;
    this.bytes[this.count++] = digit.charCodeAt(0);
    return true;
  }

  /** A view of the typed digits (no copy): valid until the next change. */
  digits(): Uint8Array {
    return this.bytes.subarray(0, this.count);
  }

  /** A copy the receiver owns (and must zero). */
  copy(): Uint8Array {
    return this.bytes.slice(0, this.count);
  }

  /** Replaces this buffer's digits with a copy of another's. */
  assign(other: DigitBuffer): void {
    this.clear();
    this.bytes.set(other.digits());
    this.count = other.count;
  }

  equals(other: DigitBuffer): boolean {
    if (other.count !== this.count) return false;
    for (let i = 0; i < this.count; i++) if (other.bytes[i] !== this.bytes[i]) return false;
    return true;
  }

  /** The last four digits as text: the only part of a value the agent may see. */
  last4(): string {
    return String.fromCharCode(...this.bytes.subarray(Math.max(0, this.count - 4), this.count));
  }

  clear(): void {
    this.bytes.fill(0);
    this.count = 0;
  }

  /** For tests: true when every byte of the backing store is zero. */
  isZeroed(): boolean {
    return this.bytes.every((b) => b === 0);
  }
}
