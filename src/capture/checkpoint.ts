import type { Actor } from '../audit/types.js';
import type { CaptureMode, CaptureOptions, CaptureView, FieldRequest } from './types.js';

/** What a checkpoint keeps of the capture's request: enough to rebuild its session on another node. */
export interface CheckpointRequest {
  fields: FieldRequest[];
  mode: CaptureMode;
  options: CaptureOptions;
  actor: Actor;
}

/**
 * An in-line capture as its node saved it: the completed fields' values (ASCII digits; never a
 * field in progress), the request and the last redacted view. Whoever holds the values zeroes them.
 */
export interface CaptureCheckpoint {
  captureId: string;
  callSid: string;
  request: CheckpointRequest;
  view: CaptureView;
  completed: Map<string, Uint8Array>;
}

/**
 * Where the capture service saves its checkpoints (cluster mode: sealed, in Redis, with a TTL).
 * `save` and `discard` return at once and keep their order per capture; a failure is logged,
 * never thrown into the capture.
 */
export interface CaptureCheckpointPort {
  /** Takes over `checkpoint.completed` (zeroes it once sealed). */
  save(checkpoint: CaptureCheckpoint): void;
  /** The capture ended (complete, failed, cancelled): its checkpoint, with any CVV in it, goes. */
  discard(captureId: string, callSid: string): void;
  /** The call's checkpoint, opened, if one was saved and not yet discarded. */
  load(callSid: string): Promise<CaptureCheckpoint | undefined>;
}
