import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { CallView, MaskingView } from '../../src/agent/contract.js';
import { demoCaller } from '../../src/cli/demo-caller.js';
import { DTMF_FREQUENCIES } from '../../src/dsp/index.js';
import { MaskingObserver } from '../../src/media/masking-observer.js';
import type { ScenarioResult } from '../../src/simulator/index.js';
import { launchChromium, leakScanner, recordTraffic, type PageGlobals } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { DEMO_KEYS, keypadTones, startTwilioRestStandIn, twilioPlayerStandIn, waitFor, type TwilioRestStandIn } from '../helpers/twilio.js';

const PAN = DEMO_KEYS.card.replace('#', '');
const leaksIn = leakScanner([
  new RegExp(PAN),
  /4111[ -]1111[ -]1111[ -]1111/,
  new RegExp(`(cvv|cvc|security code|card)\\W{0,24}${DEMO_KEYS.cvv}\\b`, 'i'),
  new RegExp(`${DEMO_KEYS.expiry}\\W{0,8}${DEMO_KEYS.cvv}`),
]);
/** Every key of the scripted call: card number, #, expiry, CVV. */
const KEYS = DEMO_KEYS.card + DEMO_KEYS.expiry + DEMO_KEYS.cvv;

interface Columns {
  bins: number;
  binHz: number;
  levels: Uint8Array;
  masked: Uint8Array;
}

function columnsOf(masking: MaskingView): Columns {
  const { bins, binHz, levels, masked } = masking.spectrogram!;
  return { bins, binHz, levels: Buffer.from(levels, 'base64'), masked: Buffer.from(masked, 'base64') };
}

/** Per column: how far the loudest DTMF bin stands above the column's median level (dB). */
function dtmfExcess({ bins, binHz, levels, masked }: Columns): number[] {
  const dtmfBins = new Set(DTMF_FREQUENCIES.slice(0, 7).map((f) => Math.round(f / binHz)));
  return Array.from(masked, (_, c) => {
    const column = Array.from(levels.subarray(c * bins, (c + 1) * bins));
    const median = [...column].sort((a, b) => a - b)[bins >> 1];
    return Math.max(...[...dtmfBins].map((k) => column[k])) - median;
  });
}

describe('the desktop demo in Chromium: "Simulate a caller" and the masking panel (slow, real service)', () => {
  let standIn: TwilioRestStandIn;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let traffic: ReturnType<typeof recordTraffic>;
  const finished: (ScenarioResult | Error)[] = [];

  beforeAll(async () => {
    standIn = await startTwilioRestStandIn();
    const caller = demoCaller({
      agentId: 'demo-agent',
      service: () => ({ url: server.url, config: server.context.config }),
      standIn: twilioPlayerStandIn(standIn),
      // Real time: the scripted agent starts the capture 0.7 s (audio time) before the first key, a margin a loaded machine needs.
      speed: 1,
      onFinished: (outcome) => finished.push(outcome),
    });
    [server, browser] = await Promise.all([
      startTestServer({ twilio: { apiBaseUrl: standIn.url, agentTarget: 'client:demo-agent' } }, { callerSimulator: caller }),
      launchChromium(),
    ]);
    page = await (await browser.newContext({ viewport: { width: 900, height: 1100 } })).newPage();
    traffic = recordTraffic(page);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await standIn?.close();
  });

  it('offers the development sign-in as the agent the simulated calls ring', async () => {
    await page.goto(`${server.url}/desktop/`);
    // The page fills the field once /desktop/settings.json has answered; under load that is not at once.
    await expect.poll(() => page.getByLabel('Agent ID').inputValue(), { timeout: 10_000 }).toBe('demo-agent');
    await page.getByRole('button', { name: 'Get dev token' }).click();
    await page.getByText('Signed in as demo-agent (agent)').waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    await page.getByText('a simulated caller rings you', { exact: false }).waitFor();
  });

  it('"Simulate a caller": the call appears, the capture completes, the masking panel shows what masking did', async () => {
    await page.getByRole('button', { name: 'Simulate a caller' }).click();
    await page.getByText('Call from +15005550006 · bridged').waitFor();
    await page.locator('.capture-state', { hasText: 'Capture complete: visa ending 1111.' }).waitFor({ timeout: 45_000 });
    await page.getByText('Call from +15005550006 · ended').waitFor({ timeout: 15_000 });
    expect(await page.locator('.result dd').nth(1).textContent()).toBe('•••• 1111');
    const maskedMs = Number((await page.locator('.masking .masked-ms').textContent())?.replace(/\D/g, ''));
    const keypresses = Number(await page.locator('.masking .keypresses').textContent());
    expect(maskedMs).toBeGreaterThan(0);
    expect(keypresses).toBe(KEYS.length);
    const columns = Number(await page.locator('.masking canvas').getAttribute('data-columns'));
    expect(columns).toBeGreaterThan(50);
    // Drawn: the canvas holds the columns, and its pixels are not one flat colour.
    const canvas = await page.evaluate(() => {
      const drawn = (globalThis as unknown as PageGlobals).document.querySelector('.masking canvas');
      if (!drawn) return null;
      const { data } = drawn.getContext('2d').getImageData(0, 0, drawn.width, drawn.height);
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      return { width: drawn.width, colours: colours.size };
    });
    expect(canvas?.width).toBe(columns);
    const distinctColours = canvas?.colours ?? 0;
    expect(distinctColours).toBeGreaterThan(20);
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/desktop-demo.png', fullPage: true });
    await waitFor(() => finished.length === 1);
    expect(finished[0]).toMatchObject({ success: true, agentHeard: { digits: '' } });
  }, 60_000);

  it('the spectrogram sent to the browser shows no DTMF energy where masking acted (the same measure finds it in the raw tones)', () => {
    const calls = traffic.frames
      .filter((f) => f.includes('"type":"call"'))
      .map((f) => (JSON.parse(f) as { call: CallView }).call)
      .filter((c) => c.masking);
    const final = calls.at(-1)!;
    expect(final.state).toBe('ended');
    // Live updates carry the figures only; the spectrogram comes once, with the end.
    const live = calls.filter((c) => c.state !== 'ended');
    expect(live.length).toBeGreaterThan(3);
    for (const call of live) expect(call.masking).not.toHaveProperty('spectrogram');
    const served = columnsOf(final.masking!);
    const excess = dtmfExcess(served);
    const maskedColumns = excess.filter((_, c) => served.masked[c] >= 30);
    expect(maskedColumns.length).toBeGreaterThanOrEqual(KEYS.length / 2);
    expect(Math.max(...maskedColumns)).toBeLessThan(10);

    // The control: the caller's raw keyed audio through the same observer shows the tones plainly.
    const raw = new MaskingObserver();
    const tones = keypadTones(KEYS).audio;
    for (let i = 0; i < tones.length; i += 160) raw.forwarded(tones.subarray(i, i + 160), 0);
    const rawExcess = dtmfExcess(columnsOf(raw.view()));
    expect(rawExcess.filter((e) => e > 30).length).toBeGreaterThanOrEqual(KEYS.length);
  });

  it('no card data in the page, the console or on the wire', async () => {
    expect(leaksIn(`${PAN} cvv ${DEMO_KEYS.cvv}`)).toHaveLength(2);
    expect(leaksIn(await page.content())).toEqual([]);
    expect(leaksIn(traffic.console.join('\n'))).toEqual([]);
    expect(traffic.errors).toEqual([]);
    for (const body of await Promise.all(traffic.bodies)) expect(leaksIn(body)).toEqual([]);
    for (const sent of traffic.sent) expect(leaksIn(sent)).toEqual([]);
    expect(traffic.frames.some((f) => f.includes('"masking"'))).toBe(true);
    for (const frame of traffic.frames) expect(leaksIn(frame)).toEqual([]);
  });
});
