import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Frame, Page } from 'playwright-core';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { launchChromium, leakScanner, recordTraffic, type PageGlobals } from '../helpers/browser.js';
import { concatSamples, keypadTones, silence, startTwilioTestBed, waitFor, type SimulatedCall, type TwilioTestBed } from '../helpers/twilio.js';

const PAN = '4111111111111111';
const EXPIRY = '1230';
const CVV = '123';
const SSN = '212345678';
const BAD_PAN = '4111111111111112';
/** How the card data could show up if anything leaked it: plain, grouped, or the CVV beside a card word. */
const LEAKS: RegExp[] = [
  new RegExp(PAN),
  /4111[ -]1111[ -]1111[ -]1111/,
  new RegExp(`(cvv|cvc|security code|card)\\W{0,24}${CVV}\\b`, 'i'),
  new RegExp(SSN),
  new RegExp(BAD_PAN),
];
const leaksIn = leakScanner(LEAKS);

/** The caller keys `keys` while the agent leg streams silence, both at 4× real time. */
async function callerKeys(call: SimulatedCall, ...keys: string[]): Promise<void> {
  const keyed = keys.map((k) => keypadTones(k));
  let offset = 0;
  const keyEnds = keyed.flatMap((k) => {
    const ends = k.keyEnds.map((e) => ({ ...e, endSample: e.endSample + offset }));
    offset += k.audio.length;
    return ends;
  });
  const audio = concatSamples(keyed.map((k) => k.audio));
  await Promise.all([call.callerPlays({ audio, keyEnds }, 4), call.agentPlays(silence((audio.length / 8) | 0), 4)]);
}

/**
 * A stand-in CRM on loopback (Chromium refuses to frame a loopback page from a public origin).
 * It answers every request with the page `html()` gives at that moment.
 */
async function startCrm(html: () => string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(html()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A CRM page framing the widget: it hands over the token when the widget is ready and keeps the results. */
function crmPage(widgetUrl: string, token: string): string {
  const origin = new URL(widgetUrl).origin;
  return `<!doctype html><html><body><h1>CRM</h1><script>
    window.results = [];
    addEventListener('message', (e) => {
      if (e.origin !== ${JSON.stringify(origin)}) return;
      if (e.data.type === 'toneguard.ready') e.source.postMessage({ type: 'toneguard.token', token: ${JSON.stringify(token)} }, e.origin);
      if (e.data.type === 'toneguard.result') window.results.push(e.data);
    });
  </script><iframe title="capture" src="${widgetUrl}" width="600" height="700"></iframe></body></html>`;
}

function captureState(page: Page | Frame, text: string): Promise<void> {
  return page.locator('.capture-state', { hasText: text }).waitFor();
}

function dotCount(page: Page | Frame, field: string): Promise<number> {
  return page.locator(`[data-field="${field}"] .dot`).count();
}

describe('the agent desktop in Chromium, on a simulated Twilio call', () => {
  let bed: TwilioTestBed;
  let call: SimulatedCall;
  let browser: Browser;
  let page: Page;
  let traffic: ReturnType<typeof recordTraffic>;
  let crm: Awaited<ReturnType<typeof startCrm>>;
  let crmHtml = '';
  /** The origin allowed to embed the widget; the same server under another host name is a stranger. */
  const crmOrigin = () => `http://127.0.0.1:${crm.port}`;
  const strangerOrigin = () => `http://localhost:${crm.port}`;
  const snapshots: string[] = [];
  const snapshot = async () => void snapshots.push(await page.content());

  beforeAll(async () => {
    crm = await startCrm(() => crmHtml);
    [bed, browser] = await Promise.all([
      startTwilioTestBed({ twilio: { agentTarget: 'client:alice' }, http: { corsOrigins: [crmOrigin()] } }),
      launchChromium(),
    ]);
    call = await bed.dial();
    await waitFor(() => bed.server.context.calls.get(call.callSid)?.state === 'bridged');
    const context = await browser.newContext({ viewport: { width: 900, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    page = await context.newPage();
    traffic = recordTraffic(page);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await bed?.close();
    await crm?.close();
  });

  it('signs the agent in with a dev token and shows their call', async () => {
    await page.goto(`${bed.server.url}/desktop/`);
    await page.getByLabel('Access token (JWT)').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Your sign-in is not valid or has expired. Please sign in again.').waitFor();
    await page.getByLabel('Agent ID').fill('alice');
    await page.getByLabel('Role').selectOption('agent');
    await page.getByRole('button', { name: 'Get dev token' }).click();
    await page.getByText('Signed in as alice (agent)').waitFor();
    await page.getByText('Call from +15005550006 · bridged').waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).location.href)).not.toContain('token');
    await snapshot();
  });

  it('captures a card: dots per digit, brand, ✓, then last four and a token', async () => {
    await page.getByRole('button', { name: 'Capture card' }).click();
    await captureState(page, 'Waiting for the caller to key the card number.');
    await snapshot();
    await callerKeys(call, `${PAN}#`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-field="card_number"] .dot').length === 16);
    expect(await page.locator('[data-field="card_number"] .dots').getAttribute('aria-label')).toBe('16 digits entered');
    expect(await page.locator('[data-field="card_number"] .brand').textContent()).toMatch(/^visa$/i);
    expect(await page.locator('[data-field="card_number"] .check').textContent()).toBe('✓');
    await snapshot();
    await callerKeys(call, EXPIRY, CVV);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.getElementById('result-token')?.value);
    const token = await page.getByLabel('Token', { exact: true }).inputValue();
    expect(token).toMatch(/\S{8,}/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.locator('.status', { hasText: 'Token copied.' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.clipboard.readText())).toBe(token);
    expect(await page.locator('.result dd').nth(1).textContent()).toBe('•••• 1111');
    expect(await page.locator('.result dd').nth(0).textContent()).toMatch(/^visa$/i);
    expect(await dotCount(page, 'cvv')).toBe(3);
    await page.getByText('A ✓ means the number is well-formed, not that the payment is authorised.').waitFor();
    await snapshot();
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/desktop.png', fullPage: true });
  });

  it('resets a field and cancels a second capture', async () => {
    await page.getByRole('button', { name: 'Capture card' }).click();
    await captureState(page, 'Waiting for the caller to key the card number.');
    await callerKeys(call, '4111');
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-field="card_number"] .dot').length === 4);
    await page.getByRole('button', { name: 'Reset card number' }).click();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.querySelectorAll('[data-field="card_number"] .dot').length === 0);
    await page.getByRole('button', { name: 'Cancel capture' }).click();
    await captureState(page, 'Capture cancelled.');
    expect(await page.getByRole('button', { name: 'Capture ID' }).isEnabled()).toBe(true);
    await snapshot();
  });

  it('captures an ID number, and says in words why a card was refused and when the capture stopped', async () => {
    await page.getByRole('button', { name: 'Capture ID' }).click();
    await captureState(page, 'Waiting for the caller to key the social security number.');
    await callerKeys(call, SSN);
    await captureState(page, 'Capture complete.');
    expect(await dotCount(page, 'ssn')).toBe(9);
    expect(await page.getByLabel('Token', { exact: true }).inputValue()).toMatch(/\S{8,}/);
    await snapshot();

    await page.getByRole('button', { name: 'Capture card' }).click();
    await captureState(page, 'Waiting for the caller to key the card number.');
    await callerKeys(call, `${BAD_PAN}#`);
    const refused = 'That card number is not valid. Ask the caller to key it again.';
    await page.locator('[data-field="card_number"] .field-error', { hasText: refused }).waitFor();
    await page.getByRole('alert').getByText(refused).waitFor();
    await snapshot();
    await callerKeys(call, `${BAD_PAN}#`, `${BAD_PAN}#`);
    await captureState(page, 'Capture failed. Too many wrong attempts: the capture has stopped. Start a new one if the caller agrees.');
    await snapshot();
  });

  it('the widget in a CRM page signs in by postMessage and posts the result back', async () => {
    const parent = await browser.newPage();
    crmHtml = crmPage(`${bed.server.url}/desktop/widget`, await mintDevToken(bed.server.context.config, { sub: 'alice', role: 'agent' }));
    await parent.goto(`${crmOrigin()}/`);
    const widget = parent.frameLocator('iframe');
    await widget.getByText('Signed in as alice (agent)').waitFor();
    await widget.getByRole('button', { name: 'Capture card' }).click();
    const frame = parent.frames().find((f) => f.url().endsWith('/desktop/widget'));
    if (!frame) throw new Error('the widget frame did not load');
    await captureState(frame, 'Waiting for the caller to key the card number.');
    await callerKeys(call, `${PAN}#`, EXPIRY, CVV);
    const results = await waitFor(() => parent.evaluate(() => (globalThis as unknown as PageGlobals & { results: Record<string, unknown>[] }).results).then((r) => r.length > 0 && r));
    expect(results).toEqual([{ type: 'toneguard.result', captureId: expect.any(String), brand: 'visa', last4: '1111', token: expect.stringMatching(/\S{8,}/) }]);
    expect(leaksIn(await frame.content())).toEqual([]);
    await parent.screenshot({ path: 'test-artifacts/widget.png' });
    await parent.close();
  });

  it('a page from an origin not in http.corsOrigins cannot frame the widget', async () => {
    const stranger = await browser.newPage();
    const blocked = new Promise<string | undefined>((resolve) => stranger.on('requestfailed', (r) => r.url().endsWith('/desktop/widget') && resolve(r.failure()?.errorText)));
    crmHtml = crmPage(`${bed.server.url}/desktop/widget`, 'unused');
    await stranger.goto(`${strangerOrigin()}/`);
    expect(await blocked).toBe('net::ERR_BLOCKED_BY_RESPONSE');
    const frame = stranger.frames().find((f) => f !== stranger.mainFrame());
    expect(await frame?.locator('#app').count()).toBe(0);
    await stranger.close();
  });

  it('when the events socket drops, the page reconnects and resumes the current state', async () => {
    const other = await browser.newPage();
    const connections: { close: (options: { code: number }) => Promise<void> }[] = [];
    await other.routeWebSocket(/\/v1\/events$/, (socket) => {
      socket.connectToServer();
      connections.push(socket);
    });
    await other.goto(`${bed.server.url}/desktop/`);
    await other.getByLabel('Agent ID').fill('alice');
    await other.getByRole('button', { name: 'Get dev token' }).click();
    await other.getByText('Live', { exact: true }).waitFor();
    await captureState(other, 'Capture complete: visa ending 1111.');
    await connections[0]!.close({ code: 1011 });
    await other.getByText('Reconnecting…').waitFor();
    await other.getByText('Live', { exact: true }).waitFor();
    expect(connections).toHaveLength(2);
    await other.getByText('Call from +15005550006 · bridged').waitFor();
    await captureState(other, 'Capture complete: visa ending 1111.');
    await other.close();
  });

  it('no card data in the page at any point, in the console, or on the wire', async () => {
    const bodies = await Promise.all(traffic.bodies);
    expect(leaksIn(`${PAN} 4111-1111-1111-1111 cvv: ${CVV} ${SSN} ${BAD_PAN}`)).toHaveLength(LEAKS.length);
    expect(snapshots.length).toBeGreaterThanOrEqual(8);
    for (const html of snapshots) expect(leaksIn(html)).toEqual([]);
    expect(leaksIn(traffic.console.join('\n'))).toEqual([]);
    expect(traffic.errors).toEqual([]);
    expect(bodies.length).toBeGreaterThan(4);
    for (const body of bodies) expect(leaksIn(body)).toEqual([]);
    for (const sent of traffic.sent) expect(leaksIn(sent)).toEqual([]);
    expect(traffic.frames.some((f) => f.includes('"type":"capture"'))).toBe(true);
    for (const frame of traffic.frames) expect(leaksIn(frame)).toEqual([]);
  });
});
