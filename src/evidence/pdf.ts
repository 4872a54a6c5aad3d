import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export type PdfOutcome = { ok: true } | { ok: false; reason: string };

/**
 * Prints `html` to a PDF at `out` with a headless Chromium (through playwright-core, which drives
 * the browser but ships none). Says why when it cannot, so the caller can keep the HTML.
 */
export async function printPdf(html: string, out: string, chromiumPath = DEFAULT_CHROMIUM): Promise<PdfOutcome> {
  if (!existsSync(chromiumPath)) return { ok: false, reason: `Chromium is not installed at ${chromiumPath} (install the chromium package, or give --chromium PATH)` };
  // Loaded only when needed: playwright-core is a development dependency of the service.
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return { ok: false, reason: 'playwright-core is not installed (npm install playwright-core)' };
  }
  let browser;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page = await browser.newPage();
    await page.setContent(html, { waitUntil: 'load' });
    await page.pdf({ path: out, format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `Chromium could not print the report (${(err as Error)?.name ?? 'error'})` };
  } finally {
    await browser?.close();
  }
}
