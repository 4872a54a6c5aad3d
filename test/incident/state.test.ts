import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import { applyIncidentAction, nextState } from '../../src/incident/actions.js';
import { incidentPath, NORMAL_STATE } from '../../src/incident/state.js';
import { FileIncidentStore, readOrFrozen } from '../../src/incident/store.js';
import { IncidentSwitch } from '../../src/incident/switch.js';

const OSCAR = { type: 'operator' as const, id: 'oscar' };
const statePath = () => incidentPath(mkdtempSync(join(tmpdir(), 'toneguard-incident-')));

describe('the incident state file', () => {
  it('is normal when absent; an unreadable file counts as frozen, and the next action replaces it', async () => {
    const path = statePath();
    expect(readOrFrozen(path)).toEqual(NORMAL_STATE);
    for (const garbage of ['{', '{"frozen":"no"}', JSON.stringify({ ...NORMAL_STATE, extra: 1 })]) {
      writeFileSync(path, garbage);
      expect(readOrFrozen(path).frozen, garbage).toBe(true);
      const gate = await IncidentSwitch.open({ store: new FileIncidentStore(path), pollMs: 60_000, audit: new MemoryAuditSink(), logger: silentLogger() });
      expect(gate.frozen).toBe(true);
      gate.close();
    }
    const audit = new MemoryAuditSink();
    expect(await applyIncidentAction(new FileIncidentStore(path), 'thaw', OSCAR, audit, Date.UTC(2026, 11, 1))).toMatchObject({ frozen: false, changedBy: 'operator:oscar' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ frozen: false, changedAt: '2026-12-01T00:00:00.000Z' });
    expect(audit.events).toEqual([expect.objectContaining({ action: 'incident.thaw', actor: OSCAR, details: { frozen: false, revokedBefore: null } })]);
  });

  it('revocation only moves the cut-off forwards; freeze and thaw leave it alone', () => {
    const revoked = nextState(NORMAL_STATE, 'revoke-sessions', OSCAR, 2000);
    expect(nextState(revoked, 'revoke-sessions', OSCAR, 1000).revokedBefore).toBe(2000);
    expect(nextState(nextState(revoked, 'freeze', OSCAR, 3000), 'thaw', OSCAR, 4000)).toMatchObject({ frozen: false, revokedBefore: 2000 });
  });
});
