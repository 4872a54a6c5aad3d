import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { collectEvidence } from '../../src/evidence/collect.js';
import { summarizeEvidence, writeEvidenceSummary } from '../../src/evidence/summary.js';
import { launchChromium, recordTraffic } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('the desktop evidence panel in Chromium, for an auditor (slow, real service)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let traffic: ReturnType<typeof recordTraffic>;
  const figure = (term: string) => page.locator('.evidence dt', { hasText: term }).locator('xpath=following-sibling::dd[1]');

  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
    page = await (await browser.newContext({ viewport: { width: 900, height: 1000 } })).newPage();
    traffic = recordTraffic(page);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('before any evidence run, says how to produce one; no call panels and no events socket for an auditor', async () => {
    await page.goto(`${server.url}/desktop/`);
    await page.getByLabel('Access token (JWT)').fill(await mintDevToken(server.context.config, { sub: 'aud', role: 'auditor' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as aud (auditor)').waitFor();
    const panel = page.getByRole('region', { name: 'Evidence for assessors' });
    await panel.getByText('No evidence report yet: run toneguard evidence --out DIR').waitFor();
    expect(await page.getByRole('region', { name: 'Call' }).isHidden()).toBe(true);
    expect(await page.locator('.alert').textContent()).toBe('');
    expect(traffic.sent.some((s) => s.includes('/v1/events'))).toBe(false);
  });

  it('after the evidence run, shows its figures with pass/fail marks and when it was generated', async () => {
    const summary = summarizeEvidence(await collectEvidence(server.context.config, { recordingSample: 1 }));
    writeEvidenceSummary(server.context.config.dataDir, summary);
    await page.getByRole('button', { name: 'Reload' }).click();
    await page.locator('.evidence .verdict', { hasText: 'Evidence report:' }).waitFor();

    const checks = summary.battery.checks.length;
    expect(await figure('Masking battery').textContent()).toBe(`${checks} of ${checks} checks pass ✓ pass`);
    expect(await figure('Audit chain').textContent()).toBe(`intact: ${summary.audit.records} records ✓ pass`);
    expect(await figure('Key versions').textContent()).toBe(`${summary.keyVersions} ✓ pass`);
    expect(await figure('Configuration fingerprint').textContent()).toBe(summary.config.fingerprint);
    expect(await figure('Production checks').textContent()).toBe(`${summary.config.checksPassed} pass, ${summary.config.checksFailed} fail ✗ fail`);
    expect(await figure('Recordings').textContent()).toBe('0 of 0 sampled, 0 verified free of tones ✓ pass');
    expect(await page.locator('.battery-checks li').allTextContents()).toEqual(summary.battery.checks.map((c) => `${c.name} ✓ pass`));
    expect(await page.locator('.evidence .hint').textContent()).toContain(`(${summary.generatedAt}) by Toneguard ${summary.build.version}.`);
    // The report's verdict (battery, chain, sampled recordings) passes; the failing production checks do not enter it.
    expect(summary.pass).toBe(true);
    expect(await page.locator('.evidence .verdict .mark').textContent()).toBe('✓ pass');

    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/desktop-evidence.png', fullPage: true });
    // The CSP holds: no inline script or style was needed, nothing failed in the page.
    expect(traffic.errors).toEqual([]);
    expect(traffic.console.filter((line) => /Content Security Policy|Refused/i.test(line))).toEqual([]);
  }, 60_000);

  it('an agent signed in sees no evidence panel', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Access token (JWT)').fill(await mintDevToken(server.context.config, { sub: 'alice', role: 'agent' }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as alice (agent)').waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    expect(await page.locator('.evidence').isHidden()).toBe(true);
    expect(await page.locator('.evidence dd').count()).toBe(0);
  });
});
