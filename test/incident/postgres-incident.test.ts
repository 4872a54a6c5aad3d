// slow: real services (PostgreSQL)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { PostgresIncidentStore } from '../../src/incident/postgres-store.js';
import { IncidentSwitch } from '../../src/incident/switch.js';
import { sharedDatabase, type SharedDatabase } from '../db/two-nodes.js';

let shared: SharedDatabase;
beforeAll(async () => {
  shared = await sharedDatabase('incidentpg');
});
afterAll(async () => {
  await shared.close();
});

const ADA = { type: 'agent' as const, id: 'ada' };

describe('the incident switch across two nodes', () => {
  it('applies a freeze, a revocation and a thaw made on one node on the other within its poll', async () => {
    const [auditA, auditB] = [new MemoryAuditSink(), new MemoryAuditSink()];
    const open = (audit: MemoryAuditSink) => IncidentSwitch.open({ store: new PostgresIncidentStore(shared.node()), pollMs: 100, audit, logger: silentLogger() });
    const [a, b] = [await open(auditA), await open(auditB)];
    try {
      expect([a.frozen, b.frozen]).toEqual([false, false]);
      const seen: boolean[] = [];
      b.onChange((state) => seen.push(state.frozen));

      await a.apply('freeze', ADA);
      expect(a.frozen).toBe(true);
      await expect.poll(() => b.frozen).toBe(true);
      expect(auditA.events.map((e) => e.action)).toEqual(['incident.freeze']);
      expect(auditB.events).toEqual([expect.objectContaining({ action: 'incident.applied', details: expect.objectContaining({ frozen: true, changedBy: 'agent:ada' }) })]);

      await b.apply('revoke-sessions', ADA);
      await expect.poll(() => a.revokedBefore).not.toBeNull();
      expect(a.frozen).toBe(true);
      await a.apply('thaw', ADA);
      await expect.poll(() => b.frozen).toBe(false);
      expect(seen).toEqual([true, true, false]);

      // A node starting now reads the state as it stands.
      const c = await open(new MemoryAuditSink());
      expect(c.revokedBefore).toBe(a.revokedBefore);
      c.close();
    } finally {
      a.close();
      b.close();
    }
  });
});
