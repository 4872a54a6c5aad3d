export { createTwilioVoice, type TwilioVoice } from './voice.js';
export { twilioSignature, upgradeSignatureValid, publicUrlFor, publicWsUrlFor } from './signature.js';
export { twilioFormPost, createTwilioRestClient, type TwilioRestClient, type CreateCallRequest } from './rest-client.js';
export { connectStreamTwiml, agentIdentity, MEDIA_STREAM_PATH, type StreamLeg } from './twiml.js';
export { VOICE_PATHS } from './voice-routes.js';
