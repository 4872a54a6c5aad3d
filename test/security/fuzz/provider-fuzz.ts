import fc from 'fast-check';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import type { PlayedCall } from '../../../src/simulator/player.js';
import { FRAME_MS, FRAME_SAMPLES, syntheticSpeech } from '../../../src/simulator/index.js';
import type { TestServer } from '../../helpers/server.js';
import { waitFor } from '../../helpers/twilio.js';
import { playFrames, type SocketFrame } from './socket.js';
import { FUZZ_PANS, hostileText } from './values.js';

/** A played call whose stream clients the fuzz can drive (every provider player's call has them). */
export type DrivenCall = PlayedCall & { caller: { sendAudio(samples: Int16Array): void }; agent: { sendAudio(samples: Int16Array): void; received: Int16Array[] } };

/** Both legs of `call` streaming in real time until stopped: the bystander whose audio must keep flowing. */
export function keepStreaming(call: DrivenCall): () => void {
  const speech = syntheticSpeech(1000);
  const quiet = new Int16Array(FRAME_SAMPLES);
  let frame = 0;
  const timer = setInterval(() => {
    const offset = (frame++ % (speech.length / FRAME_SAMPLES)) * FRAME_SAMPLES;
    call.caller.sendAudio(speech.subarray(offset, offset + FRAME_SAMPLES));
    call.agent.sendAudio(quiet);
  }, FRAME_MS);
  return () => clearInterval(timer);
}

/** The bystander's agent leg heard at least `frames` more caller frames after `phase`. */
export async function stillFlows(call: DrivenCall, phase: () => Promise<void>, frames = 10): Promise<void> {
  await phase();
  const before = call.agent.received.length;
  await waitFor(() => call.agent.received.length >= before + frames, 10_000);
}

/** Random webhook bodies: hostile strings under provider-shaped and random keys, a PAN now and then. */
export const webhookBody = (keys: readonly string[]): fc.Arbitrary<Record<string, string>> =>
  fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 12 })), fc.oneof(hostileText, fc.uuid(), fc.constantFrom(...FUZZ_PANS)), { maxKeys: 8 });

/** Frames of any kind: random text and JSON, random binary, frames shaped like the provider's own (`shaped`). */
export const providerFrame = (shaped: fc.Arbitrary<unknown>): fc.Arbitrary<SocketFrame> =>
  fc.oneof(
    { weight: 2, arbitrary: hostileText.map((text) => ({ kind: 'text' as const, text })) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 3 }).map((text) => ({ kind: 'text' as const, text })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 7000 }).map((bytes) => ({ kind: 'binary' as const, bytes })) },
    { weight: 4, arbitrary: shaped.map((message) => ({ kind: 'text' as const, text: JSON.stringify(message) })) },
  );

/** Close codes a fuzz socket may see: ours (1000), or the service's for malformed, policy or oversized input. */
const CLOSE_CODES = [1000, 1008, 1009];

/** Plays `frames` on a fresh authorised socket and checks how it ended. */
export async function fuzzSocket(url: string, protocols: string[], headers: Record<string, string>, frames: SocketFrame[]): Promise<void> {
  const outcome = await playFrames(new WebSocket(url, protocols, { headers }), frames);
  if (outcome.closedByServer) expect(CLOSE_CODES).toContain(outcome.closedByServer.code);
}

/** The service is healthy, and nothing it logged or audited carries a test PAN. */
export async function serviceUnharmed(server: TestServer): Promise<void> {
  const health = await fetch(`${server.url}/healthz`);
  expect(health.status).toBe(200);
  const written = server.logLines.join('\n') + JSON.stringify(server.auditRecords());
  for (const pan of FUZZ_PANS) expect(written).not.toContain(pan);
}

export const runs = (numRuns: number) => ({ numRuns, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });
