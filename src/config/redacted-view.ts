import { SENSITIVE_KEYS } from '../audit/redact.js';

/**
 * Settings whose values are secret though their names do not say so: the connector's Basic
 * user, and the alert and CRM lookup webhooks, whose URLs often are their own secret (Slack-style paths).
 */
const KNOWN_SECRETS = new Set(['username', 'alertwebhookurl', 'lookupurl', ...SENSITIVE_KEYS]);

/** The last word of a setting's name (`authToken` → `token`, `tokenTtlMs` → `ms`) names what it holds. */
const SECRET_NOUNS = new Set(['secret', 'secrets', 'token', 'password', 'passwd', 'passphrase', 'pwd', 'key', 'keys', 'kek', 'keks', 'credential', 'credentials', 'apikey']);

/** The members of a public JWK; anything else (`d`, `p`, `k`, ...) is private key material. */
const PUBLIC_JWK_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'n', 'e', 'kid', 'alg', 'use', 'key_ops', 'x5c', 'x5t', 'x5t#S256', 'x5u']);

function lastWord(name: string): string {
  const words = name.split(/[_\-.]|(?=[A-Z])/).filter(Boolean);
  return (words[words.length - 1] ?? name).toLowerCase();
}

function looksSecret(name: string): boolean {
  return KNOWN_SECRETS.has(name.toLowerCase()) || SECRET_NOUNS.has(lastWord(name));
}

/** A URL without the credentials, query or fragment it may carry. */
function withoutUrlCredentials(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    if (!url.username && !url.password && !url.search && !url.hash) return value;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString();
  } catch {
    return value;
  }
}

export interface RedactedConfig {
  config: unknown;
  /** Dotted paths of the settings removed, so an operator can see that they are set. */
  removed: string[];
}

/**
 * The configuration as an administrator may see it: every setting whose name looks secret
 * removed (at any depth), private JWK members removed, URLs stripped of credentials and queries.
 */
export function redactConfig(config: unknown): RedactedConfig {
  const removed: string[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === 'string') return withoutUrlCredentials(value);
    if (Array.isArray(value)) return value.map((item, i) => walk(item, `${path}[${i}]`));
    if (typeof value !== 'object' || value === null) return value;
    const isJwk = 'kty' in value;
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) {
      const at = path ? `${path}.${name}` : name;
      if (looksSecret(name) || (isJwk && !PUBLIC_JWK_MEMBERS.has(name))) {
        if (child !== null && child !== '' && !(Array.isArray(child) && child.length === 0)) removed.push(at);
        continue;
      }
      out[name] = walk(child, at);
    }
    return out;
  };
  return { config: walk(config, ''), removed };
}
