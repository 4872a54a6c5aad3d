export { startTwilioRestStandIn, randomSid, type RecordedTwilioRequest, type TwilioRestStandIn } from './rest-stand-in.js';
export { signTwilio, postTwilioWebhook, parseStreamTwiml, type StreamInstruction, type TwilioTarget } from './webhooks.js';
export { TwilioStreamClient, streamAudio, FRAME_SAMPLES, FRAME_MS, type StreamClientOptions } from './stream-client.js';
export { keypadTones, syntheticSpeech, speech, decodeDigits, concatSamples, type KeyedAudio } from './audio.js';
export { SimulatedCall, SIMULATED_CALLER, type DialOptions } from './call.js';
export { restAgentControl, type AgentControl } from './agent-control.js';
export { runCardCaptureScenario, DEMO_KEYS, type ScenarioOptions, type ScenarioResult } from './scenario.js';
export { verifyCaller, type VerificationStepOptions } from './verification-step.js';
