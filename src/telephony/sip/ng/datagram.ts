import { decodeDocument, encodeDocument, NgDocumentError, type NgDict, type NgFormat } from './document.js';

/** Longer cookies than any module makes (Kamailio's is `%d_%u_%u`) are not echoed back. */
const MAX_COOKIE_BYTES = 128;

/**
 * Splits `<cookie> <document>`: the cookie is everything before the first space, kept as latin1
 * so that the reply echoes it byte for byte. Undefined when there is no cookie to answer to.
 */
export function splitCookie(message: Buffer): { cookie: string; document: Buffer } | undefined {
  const space = message.indexOf(0x20);
  if (space <= 0 || space > MAX_COOKIE_BYTES) return undefined;
  return { cookie: message.toString('latin1', 0, space), document: message.subarray(space + 1) };
}

export type ParsedDocument = { ok: true; format: NgFormat; dict: NgDict } | { ok: false; reason: string };

export function parseDocument(document: Buffer): ParsedDocument {
  try {
    return { ok: true, ...decodeDocument(document) };
  } catch (err) {
    if (err instanceof NgDocumentError) return { ok: false, reason: err.message };
    throw err;
  }
}

export function encodeReply(cookie: string, format: NgFormat, reply: NgDict): Buffer {
  return Buffer.concat([Buffer.from(`${cookie} `, 'latin1'), encodeDocument(format, reply)]);
}
