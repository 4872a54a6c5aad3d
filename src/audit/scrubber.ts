/**
 * The last line of defence: masks card numbers and security codes in text that is about to
 * leave the process (serialised log lines, audit records). A hit here means a bug upstream,
 * so callers count and alert on every one.
 */

export type ScrubKind = 'pan' | 'cvv';

export interface ScrubResult {
  text: string;
  hits: ScrubKind[];
}

export const PAN_MASK = '[REDACTED:pan]';
export const CVV_MASK = '[REDACTED:cvv]';

/** Cheap prechecks: most lines hold neither a long digit run nor a card keyword. */
const DIGIT_RUN_PRECHECK = /\d(?:[ -]?\d){12}/;
const CVV_KEYWORD_PRECHECK = /cvv|cvc|csc|cvn|cid|security.?code|card.?code|verification/i;

/** A maximal run of digits joined by single spaces or dashes. */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
/** A card keyword, then up to a few punctuation characters, then 3 or 4 digits standing alone. */
const CVV_NEAR_KEYWORD =
  /(?<![a-z])(?:cvv2?|cvc2?|csc|cvn|cid|security[ _-]?code|card[ _-]?code|verification[ _-]?(?:code|value))(?![a-z])[\\"']{0,2}\s{0,3}[:=]?\s{0,3}[\\"']{0,2}(?:is\s{1,3})?(\d{3,4})(?!\d)/gi;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * True for a digit string shaped like a PAN. Only Visa ever issued 13-digit numbers, and
 * no brand issues them starting with 1: that carve-out keeps epoch milliseconds intact.
 */
function looksLikePan(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  if (digits.length === 13 && digits[0] === '1') return false;
  return luhnValid(digits);
}

interface Span {
  start: number;
  end: number;
  kind: ScrubKind;
}

/**
 * PAN spans inside one maximal digit run. A run without separators is one number. With
 * separators, any stretch of whole groups may be the card (a PAN followed by a year, say).
 */
function panSpans(run: string, offset: number, out: Span[]): void {
  const groups: { start: number; end: number; digits: string }[] = [];
  const groupPattern = /\d+/g;
  for (let m = groupPattern.exec(run); m; m = groupPattern.exec(run)) {
    groups.push({ start: m.index, end: m.index + m[0].length, digits: m[0] });
  }
  if (groups.length === 1) {
    if (looksLikePan(run)) out.push({ start: offset, end: offset + run.length, kind: 'pan' });
    return;
  }
  for (let i = 0; i < groups.length; i++) {
    let digits = '';
    for (let j = i; j < groups.length; j++) {
      digits += groups[j].digits;
      if (digits.length > 19) break;
      if (looksLikePan(digits)) {
        out.push({ start: offset + groups[i].start, end: offset + groups[j].end, kind: 'pan' });
        i = j;
        break;
      }
    }
  }
}

const isHexChar = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

/** Digits inside a long hex token (a hash, a MAC, a Twilio SID) are not a card number. */
function insideHexToken(text: string, start: number, end: number): boolean {
  let from = start;
  let to = end;
  while (from > 0 && isHexChar(text.charCodeAt(from - 1))) from--;
  while (to < text.length && isHexChar(text.charCodeAt(to))) to++;
  return to - from >= 24 && to - from > end - start;
}

function findSpans(text: string): Span[] {
  const spans: Span[] = [];
  if (DIGIT_RUN_PRECHECK.test(text)) {
    DIGIT_RUN.lastIndex = 0;
    for (let m = DIGIT_RUN.exec(text); m; m = DIGIT_RUN.exec(text)) {
      if (m[0].length >= 13 && !insideHexToken(text, m.index, m.index + m[0].length)) panSpans(m[0], m.index, spans);
    }
  }
  if (CVV_KEYWORD_PRECHECK.test(text)) {
    CVV_NEAR_KEYWORD.lastIndex = 0;
    for (let m = CVV_NEAR_KEYWORD.exec(text); m; m = CVV_NEAR_KEYWORD.exec(text)) {
      const start = m.index + m[0].length - m[1].length;
      spans.push({ start, end: start + m[1].length, kind: 'cvv' });
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}

/** Whether `index` of a JSON text lies inside a string literal. Only called on a hit. */
function insideJsonString(text: string, index: number): boolean {
  let inside = false;
  for (let i = 0; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */ && inside) i++;
    else if (c === 34 /* " */) inside = !inside;
  }
  return inside;
}

/**
 * Masks every PAN-like and CVV-like value. With `json`, the text is a JSON document and a
 * masked bare number becomes a string, so the line still parses.
 */
export function scrub(text: string, options: { json?: boolean } = {}): ScrubResult {
  const spans = findSpans(text);
  if (spans.length === 0) return { text, hits: [] };
  let out = '';
  let cursor = 0;
  const hits: ScrubKind[] = [];
  for (const span of spans) {
    if (span.start < cursor) continue;
    const mask = span.kind === 'pan' ? PAN_MASK : CVV_MASK;
    const quoted = options.json === true && !insideJsonString(text, span.start);
    out += text.slice(cursor, span.start) + (quoted ? `"${mask}"` : mask);
    cursor = span.end;
    hits.push(span.kind);
  }
  return { text: out + text.slice(cursor), hits };
}
