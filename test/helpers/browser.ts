import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

/** The Debian chromium, driven by playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** Which of `patterns` (the shapes a leaked value could take) occur in a text. */
export function leakScanner(patterns: readonly RegExp[]): (text: string) => string[] {
  return (text) => patterns.filter((pattern) => pattern.test(text)).map(String);
}

/** Everything the browser saw: console lines, response bodies, request bodies and WebSocket frames. */
export function recordTraffic(page: Page) {
  const seen = { console: [] as string[], bodies: [] as Promise<string>[], sent: [] as string[], frames: [] as string[], errors: [] as string[] };
  page.on('console', (message) => seen.console.push(message.text()));
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('request', (request) => seen.sent.push(`${request.url()} ${request.postData() ?? ''}`));
  page.on('response', (response) => seen.bodies.push(response.text().catch(() => '')));
  page.on('websocket', (socket) => {
    socket.on('framereceived', (frame) => seen.frames.push(String(frame.payload)));
    socket.on('framesent', (frame) => seen.frames.push(String(frame.payload)));
  });
  return seen;
}
