import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { createCaptureService, type CaptureView, type InlineCaptureSession, type Keypress } from '../../src/capture/index.js';
import { AGENT, FakeClock, FakeTokenizer, captureConfig, flush } from './fakes.js';

const FIELDS = ['card_number', 'expiry', 'cvv', 'postal_code', 'routing_number', 'account_number', 'ssn'];
const ENTRIES = ['4111111111111111#', '378282246310005', '5555555555554444', '1228', '123456789', '021000021', '94105#'];

type Action =
  | { type: 'keys'; keys: string }
  | { type: 'advance'; ms: number }
  | { type: 'activity' }
  | { type: 'reset'; field: string }
  | { type: 'cancel' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom(...'0123456789*#'), minLength: 1, maxLength: 20 }).map((keys) => ({ type: 'keys' as const, keys })) },
  { weight: 3, arbitrary: fc.constantFrom(...ENTRIES).map((keys) => ({ type: 'keys' as const, keys })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 30_000 }).map((ms) => ({ type: 'advance' as const, ms })) },
  { weight: 1, arbitrary: fc.constant({ type: 'activity' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...FIELDS).map((field) => ({ type: 'reset' as const, field })) },
  { weight: 1, arbitrary: fc.constant({ type: 'cancel' as const }) },
);

/** Every 5-digit window of what the caller typed, in order, across fields. */
function windows(typed: string): Set<string> {
  const result = new Set<string>();
  for (let i = 0; i + 5 <= typed.length; i++) result.add(typed.slice(i, i + 5));
  return result;
}

describe('redaction (property)', () => {
  it('no view, audit event or log line holds a run of more than 4 typed digits; buffers end zeroed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(FIELDS, { minLength: 1 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(action, { minLength: 1, maxLength: 25 }),
        async (fields, requireMatching, vaultFails, actions) => {
          const clock = new FakeClock();
          const tokenizer = new FakeTokenizer();
          if (vaultFails) tokenizer.failWith = new Error('vault unavailable');
          const audit = new MemoryAuditSink();
          const logLines: string[] = [];
          const logger = createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } });
          const service = createCaptureService({ config: captureConfig(), tokenizer, audit, clock, logger });
          const views: CaptureView[] = [];
          service.onView((v) => views.push(v));
          const session = service.start({
            callSid: 'CA1',
            fields: fields.map((name) => ({ name })),
            options: { requireMatching },
            actor: AGENT,
          }) as InlineCaptureSession;

          let typed = '';
          let atMs = 0;
          for (const step of actions) {
            if (step.type === 'keys') {
              for (const key of step.keys) {
                session.press(key as Keypress, (atMs += 120), 'inband');
                if (/\d/.test(key)) typed += key;
              }
            } else if (step.type === 'advance') clock.advance(step.ms);
            else if (step.type === 'activity') session.noteActivity(atMs);
            else if (session.view().state === 'active') {
              if (step.type === 'reset' && fields.includes(step.field)) session.resetField(step.field, AGENT);
              if (step.type === 'cancel') session.cancel('agent', AGENT);
            }
          }
          await flush();

          const published = [...views, ...audit.events]
            .map((item) => JSON.stringify(item).replaceAll(session.id, 'ID'))
            .concat(logLines.map((line) => line.replaceAll(session.id, 'ID')));
          for (const window of windows(typed)) {
            for (const text of published) expect(text, 'a published record holds typed digits').not.toContain(window);
          }
          if (!session.isActive()) {
            expect(session.buffersZeroed()).toBe(true);
            for (const request of tokenizer.requests) for (const buffer of request.values.values()) expect(buffer.every((b) => b === 0)).toBe(true);
          }
          if (session.isActive()) session.cancel('end of test', AGENT);
          expect(session.buffersZeroed()).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
