import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, flattenedVerify, type FlattenedJWS, type JWK } from 'jose';

export interface LookupSeen {
  typ: string | undefined;
  claims: { accountRef: string; aud: string; iat: number; nonce: string };
}

export interface CrmStandIn {
  /** The URL to configure as `verification.lookupUrl`. */
  url: string;
  /** Every lookup whose signature verified against the service's JWKS. */
  seen: LookupSeen[];
  /** Lookups refused for a bad signature. */
  refused: number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A CRM for tests and `simulate-call --verify`, on a real local HTTP server: it verifies each
 * lookup's JWS against the service's public keys (read from its JWKS URL at each lookup) and answers the numbers on file.
 */
export async function startCrmStandIn(accounts: Record<string, string[]>, serviceJwksUrl: () => string, listenPort = 0): Promise<CrmStandIn> {
  const seen: LookupSeen[] = [];
  const state = { refused: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const jws = JSON.parse(await readBody(req)) as FlattenedJWS;
        const verified = await flattenedVerify(jws, createLocalJWKSet((await (await fetch(serviceJwksUrl())).json()) as { keys: JWK[] }));
        const claims = JSON.parse(new TextDecoder().decode(verified.payload)) as LookupSeen['claims'];
        seen.push({ typ: verified.protectedHeader?.typ, claims });
        const numbers = accounts[claims.accountRef];
        res.writeHead(numbers ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(numbers ? { numbers } : { error: 'no such account' }));
      } catch {
        state.refused += 1;
        res.writeHead(401).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/lookup`,
    seen,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
