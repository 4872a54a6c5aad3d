import { buildDesktop } from '../scripts/build-desktop.js';

/** The server serves the desktop from `dist/desktop/`: build it from the current sources before any test runs. */
export default async function setup(): Promise<void> {
  await buildDesktop();
}
