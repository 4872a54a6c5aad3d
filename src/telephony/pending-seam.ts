/**
 * The media-wire shapes of the provider seam (issue 13), as `/work/notes/w4-seam.md` documents
 * them, until the seam lands on main: then this file goes and its importers take the seam's
 * own `src/media/types.ts` and `src/telephony/media-socket.ts`.
 */
import type { Keypress } from '../capture/types.js';
import type { MediaRejectReason as CurrentRejectReason } from '../media/types.js';

export type AudioEncoding = 'pcmu' | 'pcma' | 'l16';
export type SampleRate = 8000 | 16000;
export interface StreamFormat {
  encoding: AudioEncoding;
  sampleRate: SampleRate;
}

export interface StreamStart {
  legCallId: string;
  streamId: string;
  format: StreamFormat;
  parameters: Readonly<Record<string, string>>;
}

export type MediaRejectReason = CurrentRejectReason | 'unsupported_format';

export type InboundMediaEvent =
  | { kind: 'connected' }
  | { kind: 'start'; start: StreamStart }
  | { kind: 'audio'; samples: Int16Array }
  | { kind: 'dtmf'; key: Keypress }
  | { kind: 'mark'; name: string }
  | { kind: 'stop' };

export type ParsedMediaMessage = { ok: true; event: InboundMediaEvent } | { ok: false; reason: MediaRejectReason };

export interface WireEncoder {
  readonly binary: boolean;
  readonly frameMessageBytes: number;
  audio(samples: Int16Array): Buffer | string | undefined;
  mark(name: string): Buffer | string | undefined;
  clear(): Buffer | string | undefined;
  release(): void;
}

export interface WireSession {
  parse(data: Buffer, isBinary: boolean): ParsedMediaMessage;
  encoder(start: StreamStart): WireEncoder;
}

export interface MediaWire {
  session(): WireSession;
}
