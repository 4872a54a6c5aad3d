import type { DesktopSettings } from '../../contract.js';
import { button, h } from './dom.js';

/** The development demo's "Simulate a caller" button (only when the service offers a simulator). */
export class SimulatorPanel {
  readonly section: HTMLElement;
  readonly button = button('Simulate a caller');
  private readonly hint = h('p', { className: 'hint' });

  constructor(onSimulate: (control: HTMLButtonElement) => void) {
    this.button.addEventListener('click', () => onSimulate(this.button));
    this.section = h('section', { className: 'panel demo', attrs: { 'aria-labelledby': 'demo-title' } }, [
      h('h2', { text: 'Demo', attrs: { id: 'demo-title' } }),
      this.hint,
      h('div', { className: 'actions' }, [this.button]),
    ]);
    this.section.hidden = true;
  }

  render(settings: DesktopSettings, signedInAs: string | null): void {
    const simulator = settings.simulator;
    this.section.hidden = !simulator;
    if (!simulator) return;
    this.hint.textContent =
      signedInAs === simulator.agentId
        ? 'Development only: a simulated caller rings you and keys a test card while the capture runs.'
        : `Development only: simulated calls ring agent ${simulator.agentId}; sign in as ${simulator.agentId} to watch them.`;
  }
}
