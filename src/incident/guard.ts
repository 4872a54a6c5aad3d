import type { AuditSink } from '../audit/types.js';
import type { CaptureService } from '../capture/types.js';
import { ToneguardError } from '../errors.js';
import type { ManagedVault } from '../vault/vault.js';
import type { IncidentGate } from './switch.js';

export function incidentFrozen(what: string): ToneguardError {
  return new ToneguardError('incident_frozen', `${what} is stopped by an incident freeze`, 503);
}

/** The vault with detokenization refused while the service is frozen; tokenizing (storing) goes on. */
export function guardVault(vault: ManagedVault, gate: IncidentGate): ManagedVault {
  return {
    ...vault,
    async detokenize(token, options) {
      if (gate.frozen) throw incidentFrozen('detokenization');
      return vault.detokenize(token, options);
    },
  };
}

/**
 * Captures with new starts refused while frozen (`capture.refused`, audited). Captures already
 * under way, and the calls' audio, carry on.
 */
export function guardCaptures(captures: CaptureService, gate: IncidentGate, audit: AuditSink): CaptureService {
  return {
    ...captures,
    start(request) {
      if (gate.frozen) {
        audit.record({ action: 'capture.refused', actor: request.actor, outcome: 'denied', resource: { type: 'call', id: request.callSid }, details: { code: 'incident_frozen' } });
        throw incidentFrozen('capture');
      }
      return captures.start(request);
    },
  };
}
