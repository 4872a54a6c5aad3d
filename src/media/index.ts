export type * from './types.js';
export { createMediaService, recordingsDir, type AttachResult, type MediaService, type MediaServiceDeps } from './service.js';
export { CallBridge, type BridgeDeps } from './bridge.js';
export { KeypressMerger, MERGE_WINDOW_MS } from './keypress-merger.js';
export { StereoRecorder, type RecordingSink } from './recorder.js';
export { EncryptedRecordingWriter, decryptRecording, CHUNK_BYTES, PARTIAL_SUFFIX } from './recording-format.js';
export { readWav, wavHeader, withWavSizes, type WavAudio } from './wav.js';
export { parseTwilioMessage, twilioMediaMessage, twilioMarkMessage, twilioClearMessage } from './providers/twilio/messages.js';
export { runTwilioStream, MAX_FRAME_BYTES, type StreamAttach, type StreamSettings } from './providers/twilio/stream.js';
