// slow: real services (PostgreSQL)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresAssertionReplayStore } from '../../src/processors/postgres-replay-store.js';
import { PostgresProcessorRegistry } from '../../src/processors/postgres-registry.js';
import type { EnrolledProcessor } from '../../src/processors/registry.js';
import { PostgresConnectorStore } from '../../src/telephony/twilio/postgres-connector-store.js';
import { sharedDatabase, type SharedDatabase } from '../db/two-nodes.js';

let shared: SharedDatabase;
beforeAll(async () => {
  shared = await sharedDatabase('procpg');
});
afterAll(async () => {
  await shared.close();
});

const acme = (overrides: Partial<EnrolledProcessor> = {}): EnrolledProcessor => ({
  name: 'acme',
  keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', use: 'sig', kid: 'acme-sig' }],
  certFingerprint256: 'AB:CD:EF',
  certSerial: '01',
  enrolledAt: '2026-12-01T00:00:00.000Z',
  revokedAt: null,
  ...overrides,
});

describe('Generic Pay Connector answers across two nodes', () => {
  it('answers a retry on another node with the first answer, even when both nodes answered at once', async () => {
    const [a, b] = [new PostgresConnectorStore(shared.node()), new PostgresConnectorStore(shared.node())];
    const first = { token_id: 'tok_first', error_code: null, error_message: null };
    const second = { token_id: 'tok_second', error_code: null, error_message: null };
    const standing = await Promise.all([a.put('tx-race', 'tokenize', first), b.put('tx-race', 'tokenize', second)]);
    expect(standing[0]).toEqual(standing[1]);
    expect([first, second]).toContainEqual(standing[0]);
    expect(await b.get('tx-race')).toEqual({ method: 'tokenize', answer: standing[0] });
    expect(await a.get('tx-unknown')).toBeUndefined();
  });
});

describe('the private_key_jwt replay cache across two nodes', () => {
  it('accepts an assertion id once, on whichever node sees it first', async () => {
    const [a, b] = [new PostgresAssertionReplayStore(shared.node()), new PostgresAssertionReplayStore(shared.node())];
    const exp = Math.floor(Date.now() / 1000) + 300;
    const claims = await Promise.all([a.claim('acme', 'jti-1', exp), b.claim('acme', 'jti-1', exp), a.claim('acme', 'jti-1', exp)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await b.claim('beta', 'jti-1', exp)).toBe(true);
    expect(await a.claim('acme', 'jti-1', exp)).toBe(false);
  });

  it('forgets ids once they expired', async () => {
    const clock = { now: Date.now() };
    const store = new PostgresAssertionReplayStore(shared.node(), () => clock.now);
    const exp = Math.floor(clock.now / 1000) + 1;
    expect(await store.claim('acme', 'jti-expiring', exp)).toBe(true);
    clock.now += 120_000;
    expect(await store.claim('acme', 'jti-expiring', exp)).toBe(true);
  });
});

describe('the processor registry across two nodes', () => {
  it('sees an enrolment and a revocation made on another node at the next lookup', async () => {
    const [a, b] = [new PostgresProcessorRegistry(shared.node()), new PostgresProcessorRegistry(shared.node())];
    await a.enroll(acme());
    expect(await b.active('acme')).toEqual(acme());
    expect(await b.activeByFingerprint('ab:cd:ef')).toMatchObject({ name: 'acme' });
    await a.enroll(acme({ certFingerprint256: '01:02', certSerial: '02' }));
    expect(await b.activeByFingerprint('AB:CD:EF')).toBeUndefined();
    expect(await b.revoke('acme', new Date('2026-12-02T00:00:00.000Z'))).toBe(true);
    expect(await b.revoke('acme')).toBe(false);
    expect(await a.active('acme')).toBeUndefined();
    expect(await a.list()).toEqual([acme({ certFingerprint256: '01:02', certSerial: '02', revokedAt: '2026-12-02T00:00:00.000Z' })]);
  });
});
