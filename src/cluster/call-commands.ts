import type { Actor } from '../audit/types.js';
import type { Config } from '../config/index.js';
import type { CaptureService, CaptureView, FieldRequest, CaptureMode, CaptureOptions } from '../capture/types.js';
import { ToneguardError } from '../errors.js';
import type { CallRecord } from '../state/calls.js';
import type { VerificationView } from '../agent/contract.js';
import type { VerificationService } from '../verification/service.js';
import { meetsLevel } from '../verification/levels.js';
import type { LocatedView } from './capture-views.js';
import type { NodeBus } from './ports.js';

export interface StartCaptureCommand {
  callSid: string;
  fields: FieldRequest[];
  mode?: CaptureMode;
  options?: CaptureOptions;
  actor: Actor;
}

export interface CaptureAnswer {
  id: string;
  view: CaptureView;
}

/**
 * The agent commands that must run where the call's media is: its capture sessions and its
 * caller-verification state live on that node only. Any node takes the request, checks who may
 * make it, and hands it here: it runs in process when the call is pinned to this node (always, on
 * a single node) and is forwarded over the node bus otherwise, with the same answers and errors
 * (`node_unreachable` 503 when the owning node does not answer). The owning node trusts what the
 * bus brings: only nodes of the cluster reach its Redis.
 */
export interface CallCommands {
  startCapture(call: CallRecord, command: StartCaptureCommand): Promise<CaptureAnswer>;
  cancelCapture(located: LocatedView, actor: Actor): Promise<CaptureAnswer>;
  resetField(located: LocatedView, field: string, actor: Actor): Promise<CaptureAnswer>;
  lookupAccount(call: CallRecord, accountRef: string, actor: Actor): Promise<VerificationView>;
  sendCode(call: CallRecord, numberIndex: number, actor: Actor): Promise<{ captureId: string; verification: VerificationView }>;
}

export interface CallCommandDeps {
  bus: NodeBus;
  selfId: string;
  captures: CaptureService;
  verification: Pick<VerificationService, 'levelOf' | 'lookup' | 'sendCode'>;
  config: Pick<Config, 'capture'>;
}

/** Registers `name` on the bus and returns a caller that runs it on the node given (this one when undefined). */
function command<P, R>(deps: CallCommandDeps, name: string, run: (payload: P) => Promise<R>): (node: string | undefined, payload: P) => Promise<R> {
  deps.bus.handle(name, (payload) => run(payload as P));
  return (node, payload) => (node === undefined || node === deps.selfId ? run(payload) : deps.bus.request<R>(node, name, payload));
}

export function createCallCommands(deps: CallCommandDeps): CallCommands {
  const { captures, verification } = deps;

  const session = (id: string) => {
    const found = captures.get(id);
    if (!found) throw new ToneguardError('capture_not_found', 'no such capture', 404);
    return found;
  };

  const start = command(deps, 'capture.start', async (request: StartCaptureCommand): Promise<CaptureAnswer> => {
    if (captures.activeForCall(request.callSid)) throw new ToneguardError('capture_active', 'a capture is already running on this call', 409);
    const required = deps.config.capture.requireVerification;
    if (!meetsLevel(verification.levelOf(request.callSid), required)) {
      throw new ToneguardError('verification_required', `verify the caller (level ${required}) before a capture`, 409);
    }
    const started = captures.start(request);
    return { id: started.id, view: started.view() };
  });

  const cancel = command(deps, 'capture.cancel', async ({ id, actor }: { id: string; actor: Actor }): Promise<CaptureAnswer> => {
    const found = session(id);
    found.cancel('agent_cancelled', actor);
    return { id, view: found.view() };
  });

  const reset = command(deps, 'capture.reset-field', async ({ id, field, actor }: { id: string; field: string; actor: Actor }): Promise<CaptureAnswer> => {
    const found = session(id);
    found.resetField(field, actor);
    return { id, view: found.view() };
  });

  const lookup = command(deps, 'verification.lookup', ({ callSid, accountRef, actor }: { callSid: string; accountRef: string; actor: Actor }) =>
    verification.lookup(callSid, accountRef, actor),
  );

  const sendCode = command(deps, 'verification.send-code', ({ callSid, numberIndex, actor }: { callSid: string; numberIndex: number; actor: Actor }) =>
    verification.sendCode(callSid, numberIndex, actor),
  );

  return {
    startCapture: (call, request) => start(call.node, request),
    cancelCapture: (located, actor) => cancel(located.node, { id: located.view.id, actor }),
    resetField: (located, field, actor) => reset(located.node, { id: located.view.id, field, actor }),
    lookupAccount: (call, accountRef, actor) => lookup(call.node, { callSid: call.callSid, accountRef, actor }),
    sendCode: (call, numberIndex, actor) => sendCode(call.node, { callSid: call.callSid, numberIndex, actor }),
  };
}
