export type { PlayedCall, ProviderPlayer, PlayerKit, PlayerStandIn, PlayedService, DialRequest } from './player.js';
export { playerKit, PLAYER_NAMES } from './players.js';
export { streamAudio, playKeyed, FRAME_SAMPLES, FRAME_MS, type FrameSink } from './pacing.js';
export { keypadTones, syntheticSpeech, speech, decodeDigits, concatSamples, type KeyedAudio } from './audio.js';
export { restAgentControl, type AgentControl } from './agent-control.js';
export { runCardCaptureScenario, DEMO_KEYS, type ScenarioOptions, type ScenarioResult } from './scenario.js';
export { verifyCaller, type VerificationStepOptions } from './verification-step.js';
export * from './twilio/index.js';
export { signalWireKit, signalWirePlayerStandIn, SIGNALWIRE_CALL_DIALECT } from './signalwire/player.js';
