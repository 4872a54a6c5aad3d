import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { JambonzSettings } from './settings.js';

export const JAMBONZ_SUBPROTOCOL = 'audio.jambonz.org';

export interface WsCredentials {
  username: string;
  password: string;
}

/**
 * What jambonz presents on the media socket (the `listen` verb's `wsAuth`, sent as HTTP Basic):
 * the configured password, or one derived from the webhook secret so that one secret is enough.
 */
export function jambonzWsCredentials(settings: Pick<JambonzSettings, 'wsUsername' | 'wsPassword' | 'webhookSecret'>): WsCredentials {
  const password = settings.wsPassword || createHmac('sha256', settings.webhookSecret).update('toneguard jambonz listen socket').digest('base64url');
  return { username: settings.wsUsername, password };
}

/** True when the upgrade carries exactly these Basic credentials (compared in constant time). */
export function wsAuthValid(req: Pick<IncomingMessage, 'headers'>, credentials: WsCredentials): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Basic ') || header.length > 1024 || !credentials.password) return false;
  const given = Buffer.from(header.slice(6).trim(), 'base64');
  const expected = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
