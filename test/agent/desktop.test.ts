import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { DESKTOP_PUBLIC_DIR } from '../../src/agent/desktop-routes.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CRM = 'https://crm.example.com';
const ASSETS = ['index.html', 'desktop.css', 'desktop.js'];

function directives(csp: string | undefined): Map<string, string> {
  return new Map((csp ?? '').split(';').map((d) => d.trim().split(/\s+(.*)/s).slice(0, 2) as [string, string]));
}

describe('the desktop page and widget: served files and headers', () => {
  let server: TestServer;
  let bare: TestServer;

  beforeAll(async () => {
    [server, bare] = await Promise.all([startTestServer({ http: { corsOrigins: [CRM, 'https://crm2.example.com/'] } }), startTestServer()]);
  });
  afterAll(async () => {
    await Promise.all([server?.close(), bare?.close()]);
  });

  it('serves the build output (dist/desktop/), the same path from src/agent/ and dist/agent/', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    expect(DESKTOP_PUBLIC_DIR).toBe(join(root, 'dist/desktop/'));
    expect(fileURLToPath(new URL('../../dist/desktop/', new URL('dist/agent/desktop-routes.js', `file://${root}`)))).toBe(DESKTOP_PUBLIC_DIR);
    for (const asset of ASSETS) expect(existsSync(join(DESKTOP_PUBLIC_DIR, asset))).toBe(true);
    expect(existsSync(join(root, 'src/agent/desktop/public/desktop.js'))).toBe(false);
  });

  it('the Dockerfile builds the desktop bundle and the runtime image gets it with dist/', () => {
    const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
    const cut = dockerfile.lastIndexOf('\nFROM ');
    const [build, runtime] = [dockerfile.slice(0, cut), dockerfile.slice(cut)];
    expect(build).toMatch(/^COPY scripts\/build-desktop\.ts \.\/scripts\/$/m);
    expect(build).toMatch(/^RUN npm run build/m);
    expect(runtime).toMatch(/^COPY --from=build .*\/app\/dist \.\/dist$/m);
    expect(runtime).not.toMatch(/src\//);
  });

  it('serves /desktop/ as HTML that may not be framed, with its script and styles from our own origin', async () => {
    const res = await request(server.url).get('/desktop/').expect(200).expect('content-type', /text\/html/);
    expect(res.text).toContain('<script type="module" src="/desktop/desktop.js"></script>');
    expect(res.text).toContain('<link rel="stylesheet" href="/desktop/desktop.css">');
    expect(res.headers['x-frame-options']).toBe('DENY');
    const csp = directives(res.headers['content-security-policy']);
    expect(csp.get('frame-ancestors')).toBe("'none'");
    expect(csp.get('script-src')).toBe("'self'");
    expect(csp.get('style-src')).toBe("'self'");
    expect(res.headers['cache-control']).toBe('no-cache');
    await request(server.url).get('/desktop').expect(301).expect('location', '/desktop/');
  });

  it('serves the script, the styles and the settings with their types', async () => {
    await request(server.url).get('/desktop/desktop.js').expect(200).expect('content-type', /javascript/);
    await request(server.url).get('/desktop/desktop.css').expect(200).expect('content-type', /text\/css/);
    const settings = await request(server.url).get('/desktop/settings.json').expect(200);
    expect(settings.body).toEqual({ devTokens: true, embedOrigins: [CRM, 'https://crm2.example.com'] });
    await request(server.url).get('/desktop/nothing.js').expect(404).expect('content-type', /json/);
    await request(server.url).get('/desktop/..%2Fdesktop-routes.ts').expect(404);
  });

  it('lets only the configured CRM origins frame the widget, keeping the rest of the CSP', async () => {
    const res = await request(server.url).get('/desktop/widget').expect(200).expect('content-type', /text\/html/);
    expect(res.headers['x-frame-options']).toBeUndefined();
    const csp = directives(res.headers['content-security-policy']);
    expect(csp.get('frame-ancestors')).toBe(`${CRM} https://crm2.example.com`);
    expect(csp.get('default-src')).toBe("'self'");
    expect(csp.get('script-src')).toBe("'self'");
    expect(res.headers['content-security-policy']?.match(/frame-ancestors/g)).toHaveLength(1);
    expect(res.text).toContain('<script type="module" src="/desktop/desktop.js"></script>');
  });

  it('without configured origins the widget may be framed only by our own origin', async () => {
    const res = await request(bare.url).get('/desktop/widget').expect(200);
    expect(directives(res.headers['content-security-policy']).get('frame-ancestors')).toBe("'self'");
    expect(res.headers['x-frame-options']).toBeUndefined();
    expect((await request(bare.url).get('/desktop/settings.json')).body.embedOrigins).toEqual([]);
  });

  it('offers no dev sign-in in production-like settings', async () => {
    const off = await startTestServer({ auth: { devIssuer: false, jwksUrl: 'https://idp.example.com/jwks.json' } });
    try {
      expect((await request(off.url).get('/desktop/settings.json')).body.devTokens).toBe(false);
      await request(off.url).post('/v1/dev/token').send({ sub: 'a', role: 'agent' }).expect(404);
    } finally {
      await off.close();
    }
  });

  it('the page script builds the DOM without HTML strings or inline styles', () => {
    const script = readFileSync(join(DESKTOP_PUBLIC_DIR, 'desktop.js'), 'utf8');
    expect(script).toContain('// src/agent/desktop/client/main.ts');
    expect(script).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\.style\b|eval\(|new Function/);
    const html = readFileSync(join(DESKTOP_PUBLIC_DIR, 'index.html'), 'utf8');
    expect(html).not.toMatch(/style=|<style|<script>|\son[a-z]+=/i);
  });

  it('the page shares the server\'s contract: the close codes and the subprotocol are defined once, in src/agent/contract.ts', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|js)$/.test(f));
    const defining = (pattern: RegExp) => sources.filter((f) => pattern.test(readFileSync(join(root, 'src', f), 'utf8')));
    expect(defining(/\b4401\b|\b4403\b/)).toEqual([join('agent', 'contract.ts')]);
    expect(defining(/'toneguard\.v1'/)).toEqual([join('agent', 'contract.ts')]);
    const script = readFileSync(join(DESKTOP_PUBLIC_DIR, 'desktop.js'), 'utf8');
    expect(script).toContain('// src/agent/contract.ts');
    expect(script.match(/4401/g)).toHaveLength(1);
  });
});
