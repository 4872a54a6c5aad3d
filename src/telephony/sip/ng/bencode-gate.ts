/** Nesting deeper than any ng message needs (rtpengine's own replies go four levels deep). */
export const MAX_BENCODE_DEPTH = 32;

const D = 0x64; // 'd'
const L = 0x6c; // 'l'
const I = 0x69; // 'i'
const E = 0x65; // 'e'
const COLON = 0x3a;
const MINUS = 0x2d;
const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;

interface Frame {
  dict: boolean;
  /** In a dictionary: whether the next item is a key. */
  expectKey: boolean;
}

/**
 * Whether `data` starts with one well-formed bencode value, nested at most `maxDepth` deep.
 *
 * The `bencode` package decodes by trusting the input: a string whose length prefix is negative
 * (`l-3:e`) moves its cursor backwards and loops forever, and each nesting level is one level of
 * recursion. Both would let one datagram stop the service. This walk is iterative and admits only
 * what that decoder handles in one forward pass: unsigned string lengths that fit the data,
 * integers of digits with an optional minus, string keys in dictionaries, matched ends. It
 * decodes nothing; the package does that once the gate is passed.
 */
export function isWellFormedBencode(data: Uint8Array, maxDepth = MAX_BENCODE_DEPTH): boolean {
  const stack: Frame[] = [];
  let pos = 0;
  for (;;) {
    const frame = stack[stack.length - 1];
    const byte = data[pos];
    if (byte === undefined) return false;
    if (byte === E) {
      if (!frame || (frame.dict && !frame.expectKey)) return false;
      stack.pop();
      pos++;
    } else if (frame?.dict && frame.expectKey && !isDigit(byte)) {
      return false;
    } else if (byte === D || byte === L) {
      if (stack.length >= maxDepth) return false;
      // The parent's key/value turn flips when this container ends, like any other value.
      stack.push({ dict: byte === D, expectKey: true });
      pos++;
      continue;
    } else if (byte === I) {
      const end = integerEnd(data, pos + 1);
      if (end < 0) return false;
      pos = end + 1;
    } else if (isDigit(byte)) {
      const next = stringEnd(data, pos);
      if (next < 0) return false;
      pos = next;
    } else {
      return false;
    }
    const parent = stack[stack.length - 1];
    if (!parent) return true;
    if (parent.dict) parent.expectKey = !parent.expectKey;
  }
}

/** Index of the `e` closing an integer whose digits start at `from`, or -1. */
function integerEnd(data: Uint8Array, from: number): number {
  let pos = from;
  if (data[pos] === MINUS) pos++;
  const digitsFrom = pos;
  while (isDigit(data[pos])) pos++;
  return pos > digitsFrom && data[pos] === E ? pos : -1;
}

/** Index just past a `<length>:<bytes>` string starting at `from`, or -1 if it does not fit. */
function stringEnd(data: Uint8Array, from: number): number {
  let pos = from;
  let length = 0;
  while (isDigit(data[pos])) {
    length = length * 10 + (data[pos] - 0x30);
    if (length > data.length) return -1;
    pos++;
  }
  if (data[pos] !== COLON) return -1;
  const end = pos + 1 + length;
  return end <= data.length ? end : -1;
}
