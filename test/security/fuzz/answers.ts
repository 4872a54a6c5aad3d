import { expect } from 'vitest';
import { FUZZ_PANS } from './values.js';

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

export async function readAnswer(response: Response): Promise<Answer> {
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a body is the service's JSON error shape `{ error: { code, message } }`. */
export function isJsonError(answer: Answer): boolean {
  const body = parseJson(answer.text) as { error?: { code?: unknown; message?: unknown } } | null | undefined;
  return answer.contentType.includes('json') && typeof body?.error?.code === 'string' && typeof body.error.message === 'string';
}

/** A body excerpt for a failure message, with digit runs that could be card numbers hidden. */
function excerpt(answer: Answer): string {
  return `${answer.status} ${answer.text.slice(0, 200).replace(/\d{12,}/g, '[digits]')}`;
}

/**
 * What every fuzzed HTTP answer must be: never a 5xx, a JSON error for any refusal, and no
 * card number anywhere in the body (messages name fields, never values).
 */
export function expectSafeAnswer(answer: Answer, isRefusalShape: (answer: Answer) => boolean = isJsonError): void {
  expect(answer.status, excerpt(answer)).toBeLessThan(500);
  if (answer.status >= 400) expect(isRefusalShape(answer), excerpt(answer)).toBe(true);
  for (const pan of FUZZ_PANS) expect(answer.text.includes(pan)).toBe(false);
}

/** Counts outcomes by label, so a phase can show its inputs got past the first refusal. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(label: string): void {
    this.counts.set(label, this.count(label) + 1);
  }

  count(label: string): number {
    return this.counts.get(label) ?? 0;
  }
}
