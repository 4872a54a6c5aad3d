import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { EVENTS_PATH, EVENTS_SUBPROTOCOL } from '../../../src/agent/index.js';

/** Every regular file under `dir`, recursively, with its bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, bytes: readFileSync(path) };
    });
}

/** An agent's events socket, keeping every message exactly as it arrived. */
export class EventsRecorder {
  readonly messages: string[] = [];
  private readonly ws: WebSocket;

  private constructor(baseUrl: string, token: string) {
    this.ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + EVENTS_PATH, [EVENTS_SUBPROTOCOL, `bearer.${token}`]);
    this.ws.on('message', (data) => void this.messages.push(data.toString()));
    this.ws.on('error', () => undefined);
  }

  static async open(baseUrl: string, token: string): Promise<EventsRecorder> {
    const recorder = new EventsRecorder(baseUrl, token);
    await new Promise<void>((resolve, reject) => {
      recorder.ws.once('open', () => resolve());
      recorder.ws.once('unexpected-response', (_req, res) => reject(new Error(`events upgrade refused: ${res.statusCode}`)));
    });
    return recorder;
  }

  close(): void {
    this.ws.close();
  }
}

/** `fetch` that keeps every response body it received, for the scan. */
export class RecordingHttp {
  readonly bodies: { what: string; body: string }[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly authorization: string,
  ) {}

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: { authorization: this.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    this.bodies.push({ what: `${method} ${path}`, body: text });
    return { status: response.status, json: (text ? JSON.parse(text) : undefined) as T };
  }

  async text(path: string): Promise<string> {
    const text = await (await fetch(this.baseUrl + path)).text();
    this.bodies.push({ what: `GET ${path}`, body: text });
    return text;
  }
}

/**
 * Records what anything in this process writes to stdout/stderr or the console until `restore`:
 * the service runs in-process, so a stray `console.log` of a value would land here.
 */
export function captureProcessOutput(): { chunks: string[]; restore(): void } {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    const original = stream.write;
    stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return original.call(stream, chunk, ...rest);
    }) as typeof stream.write;
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const consoles = methods.map((method) => console[method]);
  for (const method of methods) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      chunks.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      original.apply(console, args);
    };
  }
  return {
    chunks,
    restore() {
      streams.forEach((stream, i) => (stream.write = writes[i]));
      methods.forEach((method, i) => (console[method] = consoles[i]));
    },
  };
}
