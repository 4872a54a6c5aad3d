import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

/**
 * The browser globals that functions run in the page use, typed for the test project (which has no
 * DOM lib): cast `globalThis` to it inside a page function; the cast is erased before it is sent.
 */
export interface PageGlobals {
  location: { href: string };
  navigator: { clipboard: { readText(): Promise<string> } };
  document: {
    querySelectorAll(selector: string): { length: number };
    querySelector(selector: string): PageCanvas | null;
    getElementById(id: string): { value?: string } | null;
  };
}

/** A canvas as far as the tests read it. */
export interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, width: number, height: number): { data: ArrayLike<number> } };
}

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
