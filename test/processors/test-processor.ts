import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { compactDecrypt, createRemoteJWKSet, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { CardPayload } from '../../src/processors/types.js';

export type Behaviour = 'ok' | 'fail500' | 'hang' | 'reject400';

export interface Delivery {
  idempotencyKey: string;
  claims: JWTPayload;
  payload: CardPayload;
  jweHeader: Record<string, unknown>;
}

export interface TestProcessor {
  url: string;
  /** Where the processor publishes its own public keys. */
  jwksUrl: string;
  /** Requests that arrived, whatever the processor then did with them. */
  attempts: number;
  /** The idempotency key of every request, in order. */
  keysSeen: string[];
  /** Verified and decrypted deliveries, one per accepted idempotency key. */
  accepted: Map<string, Delivery>;
  /** Why requests were refused (signature, decryption), if any were. */
  refusals: string[];
  /** What to do with the next requests, in order; `ok` once the queue is empty. */
  script: Behaviour[];
  tokenFor(idempotencyKey: string): string;
  close(): Promise<void>;
}

/**
 * A real processor endpoint, as a processor would write it from the README (Processors and Twilio Pay mode): it verifies
 * our signed request against our JWKS (fetched over HTTP), decrypts the JWE with its private key,
 * and answers idempotently with its own token.
 */
export async function startTestProcessor(options: {
  encPrivate: CryptoKey;
  publicJwks: { keys: JWK[] };
  /** Our JWKS URL; a function when the service starts after the processor. */
  serviceJwksUrl: string | (() => string);
  issuer: string;
}): Promise<TestProcessor> {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const serviceKeys = () => {
    const { serviceJwksUrl } = options;
    jwks ??= createRemoteJWKSet(new URL(typeof serviceJwksUrl === 'string' ? serviceJwksUrl : serviceJwksUrl()));
    return jwks;
  };
  const hanging = new Set<ServerResponse>();
  const tokenFor = (key: string) => `proc_${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  const processor: TestProcessor = {
    url: '',
    jwksUrl: '',
    attempts: 0,
    keysSeen: [],
    accepted: new Map(),
    refusals: [],
    script: [],
    tokenFor,
    close: async () => {
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/jwks.json') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(options.publicJwks));
    }
    processor.attempts++;
    processor.keysSeen.push(String(req.headers['idempotency-key'] ?? ''));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const behaviour = processor.script.shift() ?? 'ok';
    if (behaviour === 'hang') {
      hanging.add(res);
      return;
    }
    if (behaviour === 'fail500') return void res.writeHead(500).end('{"error":"unavailable"}');
    if (behaviour === 'reject400') return void res.writeHead(400).end('{"error":"bad request"}');
    const key = String(req.headers['idempotency-key'] ?? '');
    try {
      if (req.headers['content-type'] !== 'application/jose') throw new Error('content type');
      const { payload: claims, protectedHeader } = await jwtVerify(Buffer.concat(chunks).toString('utf8'), serviceKeys(), {
        issuer: options.issuer,
        audience: processor.url,
        typ: 'toneguard-push+jwt',
      });
      if (claims.jti !== key || !protectedHeader.kid) throw new Error('idempotency key mismatch');
      const decrypted = await compactDecrypt(String(claims.jwe), options.encPrivate);
      const payload = JSON.parse(Buffer.from(decrypted.plaintext).toString('utf8')) as CardPayload;
      if (!processor.accepted.has(key)) processor.accepted.set(key, { idempotencyKey: key, claims, payload, jweHeader: decrypted.protectedHeader as Record<string, unknown> });
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ token: tokenFor(key) }));
    } catch (err) {
      processor.refusals.push(err instanceof Error ? err.message : String(err));
      res.writeHead(401).end('{"error":"refused"}');
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  processor.url = `${base}/card-data`;
  processor.jwksUrl = `${base}/jwks.json`;
  return processor;
}
