import { mintDevToken } from '../../src/agent/dev-issuer.js';
import type { AuditRecord } from '../../src/audit/chain.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The real service with dev-issuer tokens and calls registered straight into its registry. */
export interface AgentApi {
  server: TestServer;
  /** `Bearer <dev token>` for `sub` holding `role` (an unknown role name gives a token with no role). */
  bearer(sub: string, role: string): Promise<string>;
  /** Registers a live (bridged) call bound to `agentId` and returns its CallSid. */
  bindCall(agentId: string): string;
  /** Audit records written after `seq` (the trail's last seq before an action). */
  auditSince(seq: number): AuditRecord[];
  /** The trail's current last seq. */
  lastSeq(): number;
  close(): Promise<void>;
}

let calls = 0;

export async function startAgentApi(overrides: Record<string, unknown> = {}): Promise<AgentApi> {
  const server = await startTestServer(overrides);
  const lastSeq = () => server.auditRecords().at(-1)?.seq ?? -1;
  return {
    server,
    bearer: async (sub, role) => `Bearer ${await mintDevToken(server.context.config, { sub, role })}`,
    bindCall(agentId) {
      const callSid = `CA${String(++calls).padStart(32, '0')}`;
      server.context.calls.upsert({ callSid, agentId, state: 'bridged', startedAt: new Date().toISOString() });
      return callSid;
    },
    auditSince: (seq) => server.auditRecords().filter((r) => r.seq > seq),
    lastSeq,
    close: () => server.close(),
  };
}
