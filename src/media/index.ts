export type * from './types.js';
export { createMediaService, recordingsDir, type AttachResult, type MediaService, type MediaServiceDeps } from './service.js';
export { CallBridge, type BridgeDeps } from './bridge.js';
export { StreamCredentials, MemoryRedeemedCredentials, deriveStreamCredentialKey, STREAM_CREDENTIAL_KEY_INFO, type RedeemedCredentials, type StreamClaim, type CredentialRefusal, type RedeemResult } from './stream-credentials.js';
export { KeypressMerger, MERGE_WINDOW_MS } from './keypress-merger.js';
export { StereoRecorder, type RecordingSink } from './recorder.js';
export { EncryptedRecordingWriter, decryptRecording, CHUNK_BYTES, PARTIAL_SUFFIX } from './recording-format.js';
export { readWav, wavHeader, withWavSizes, type WavAudio } from './wav.js';
