/** What the media benchmarks share: the CPU meter, a stream's opening messages and the load generator's pre-built frames. */
import { readFileSync } from 'node:fs';
import type { WebSocket } from 'ws';
import { encodeMulaw } from '../src/dsp/index.js';
import { syntheticSpeech } from '../src/simulator/index.js';

/** CPU seconds a process has used (Linux /proc), to express load as a share of one core. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Pre-built Twilio media messages (speech-like audio), cycled so the generator does no per-frame work. */
export function frameMessages(streamSid: string, seed: number): Buffer[] {
  const audio = syntheticSpeech(1000, seed);
  const bytes = Buffer.alloc(160);
  return Array.from({ length: 50 }, (_, i) => {
    encodeMulaw(audio.subarray(i * 160, (i + 1) * 160), bytes);
    const message = { event: 'media', sequenceNumber: String(i + 2), media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: bytes.toString('base64') }, streamSid };
    return Buffer.from(JSON.stringify(message));
  });
}

/** Opens a Twilio media stream as the platform does: `connected`, then `start` with the leg's parameters. */
export function sendStreamStart(ws: WebSocket, start: { accountSid: string; streamSid: string; callSid: string; parameters: Record<string, string> }): void {
  const { accountSid, streamSid, callSid, parameters } = start;
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  ws.send(
    JSON.stringify({
      event: 'start',
      sequenceNumber: '1',
      start: { accountSid, streamSid, callSid, tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: parameters },
      streamSid,
    }),
  );
}
