import { jambonzSignatureHeader, SIGNATURE_HEADER } from '../../telephony/jambonz/signature.js';
import { pathUnder } from '../plivo/webhooks.js';

export interface JambonzTarget {
  /** Where the service listens (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
  publicUrl: string;
  webhookSecret: string;
}

/**
 * POSTs a JSON webhook as jambonz does: the body `JSON.stringify`d once, signed over exactly those
 * bytes (`Jambonz-Signature: t=…,v1=…`). `signature` overrides the header (forgery tests); null sends none.
 */
export async function postJambonzWebhook(target: JambonzTarget, pathOrUrl: string, payload: unknown, signature?: string | null): Promise<{ status: number; body: string }> {
  const path = pathUnder(target.publicUrl, pathOrUrl);
  const raw = JSON.stringify(payload);
  const header = signature === undefined ? jambonzSignatureHeader(target.webhookSecret, raw) : signature;
  const response = await fetch(target.baseUrl.replace(/\/$/, '') + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header === null ? {} : { [SIGNATURE_HEADER]: header }) },
    body: raw,
  });
  return { status: response.status, body: await response.text() };
}

export interface ListenInstruction {
  url: string;
  sampleRate: number;
  streaming: boolean;
  metadata: Record<string, string>;
  wsAuth?: { username: string; password: string };
}

/** Reads the top-level bidirectional `listen` out of our answer (the simulator plays jambonz's part). */
export function parseListen(body: string): ListenInstruction | undefined {
  let verbs: unknown;
  try {
    verbs = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(verbs)) return undefined;
  const listen = verbs.find((verb): verb is Record<string, unknown> => typeof verb === 'object' && verb !== null && (verb as { verb?: unknown }).verb === 'listen');
  const audio = listen?.bidirectionalAudio as { enabled?: boolean; streaming?: boolean } | undefined;
  if (!listen || typeof listen.url !== 'string' || audio?.enabled === false) return undefined;
  return {
    url: listen.url,
    sampleRate: typeof listen.sampleRate === 'number' ? listen.sampleRate : 8000,
    streaming: audio?.streaming === true,
    metadata: (listen.metadata ?? {}) as Record<string, string>,
    wsAuth: listen.wsAuth as ListenInstruction['wsAuth'],
  };
}
