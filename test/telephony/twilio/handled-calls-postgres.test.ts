// slow: real services (PostgreSQL)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresHandledCallStore } from '../../../src/telephony/postgres-handled-calls.js';
import { sharedDatabase, type SharedDatabase } from '../../db/two-nodes.js';

let shared: SharedDatabase;
beforeAll(async () => {
  shared = await sharedDatabase('handledpg');
});
afterAll(async () => {
  await shared.close();
});

describe('answered call ids across two nodes', () => {
  it('answers a webhook once, whichever node gets it first: a replay to the other node is refused', async () => {
    const [a, b] = [new PostgresHandledCallStore(shared.node(), 'twilio', 30), new PostgresHandledCallStore(shared.node(), 'twilio', 30)];
    const claims = await Promise.all([a.claim('CA0001'), b.claim('CA0001')]);
    expect(claims.sort()).toEqual([false, true]);
    expect(await b.claim('CA0001')).toBe(false);
    // Each provider has its own ids.
    expect(await new PostgresHandledCallStore(shared.node(), 'plivo', 30).claim('CA0001')).toBe(true);
  });

  it('forgets an id after the retention days', async () => {
    const clock = { now: Date.now() };
    const store = new PostgresHandledCallStore(shared.node(), 'vonage', 1, () => clock.now);
    expect(await store.claim('uuid-old')).toBe(true);
    clock.now += 2 * 86_400_000;
    const later = new PostgresHandledCallStore(shared.node(), 'vonage', 1, () => clock.now);
    expect(await later.claim('uuid-old')).toBe(true);
  });
});
