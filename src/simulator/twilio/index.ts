export { startTwilioRestStandIn, randomSid, type RecordedTwilioRequest, type TwilioRestStandIn } from './rest-stand-in.js';
export { signTwilio, postTwilioWebhook, parseStreamTwiml, TWILIO_SIGNING, type StreamInstruction, type TwilioTarget, type WebhookSigning } from './webhooks.js';
export { TwilioStreamClient, TWILIO_DIALECT, type StreamClientOptions, type StreamDialect } from './stream-client.js';
export { FollowedStream, type NextInstruction, type OpenStream } from './followed-stream.js';
export { SimulatedCall, SIMULATED_CALLER, TWILIO_CALL_DIALECT, type CallDialect, type DialOptions } from './call.js';
export { twilioKit, twilioFormatPlayer, twilioPlayerStandIn } from './player.js';
