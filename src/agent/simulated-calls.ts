import express, { type Router } from 'express';
import type { AppContext } from '../context.js';
import type { Config } from '../config/index.js';
import { sendError } from '../http/errors.js';
import { actorOf, authenticate, principalOf, requireRole, type TokenVerifier } from './auth.js';
import { SIMULATED_CALLS_PATH } from './contract.js';

/** Plays a simulated caller into this service (the demo wires one in; a real deployment has none). */
export interface CallerSimulator {
  /** The agent identity the simulated calls ring. */
  readonly agentId: string;
  /** Dials a caller; resolves with its CallSid once the call is bridged, while the caller goes on to key a test card. */
  dial(): Promise<{ callSid: string }>;
  /** Whether a simulated call is still playing. */
  readonly busy: boolean;
}

/** Only a development service with a simulator wired in has the route; production never does. */
export function simulatorOffered(config: Config, simulator: CallerSimulator | undefined): simulator is CallerSimulator {
  return config.profile === 'development' && simulator !== undefined;
}

/** `POST /v1/dev/simulated-calls`: an agent or supervisor asks for one simulated caller at a time. */
export function createSimulatedCallsRouter(ctx: Pick<AppContext, 'config' | 'audit' | 'logger' | 'callerSimulator'>, verifier: TokenVerifier): Router {
  const router = express.Router();
  const simulator = ctx.callerSimulator;
  if (!simulatorOffered(ctx.config, simulator)) return router;
  router.post(SIMULATED_CALLS_PATH, authenticate(verifier, ctx.audit), requireRole(ctx.audit, 'agent', 'supervisor'), async (req, res) => {
    if (simulator.busy) return sendError(res, 409, 'simulation_running', 'a simulated call is already playing');
    const actor = actorOf(principalOf(res), req.ip);
    try {
      const { callSid } = await simulator.dial();
      ctx.audit.record({ action: 'call.simulated', actor, outcome: 'success', resource: { type: 'call', id: callSid } });
      res.status(202).json({ callSid, agentId: simulator.agentId });
    } catch (err) {
      ctx.logger.warn({ err }, 'the simulated call could not be placed');
      sendError(res, 502, 'simulation_failed', 'the simulated call could not be placed');
    }
  });
  return router;
}
