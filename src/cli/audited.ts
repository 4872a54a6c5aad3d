import { openOperatorAudit } from '../audit/operator.js';
import type { Actor, AuditSink } from '../audit/types.js';
import type { Config } from '../config/index.js';

const OPERATOR: Actor = { type: 'operator', id: process.env.USER ?? 'cli' };

/** Runs an operator command with an audit sink, and says on stderr where each of its events went. */
export async function audited<T>(config: Config, run: (audit: AuditSink, operator: Actor) => Promise<T> | T): Promise<T> {
  const audit = openOperatorAudit(config);
  const where = audit.via === 'trail' ? 'recorded in the audit trail' : "queued for the running service's audit trail";
  const sink: AuditSink = {
    record(event) {
      const durable = audit.record(event);
      process.stderr.write(`audit: ${event.action} ${where}\n`);
      return durable;
    },
  };
  try {
    return await run(sink, OPERATOR);
  } finally {
    await audit.close();
  }
}
