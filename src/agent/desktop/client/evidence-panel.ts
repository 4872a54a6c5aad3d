import { EVIDENCE_PATH, EVIDENCE_ROLES, type EvidenceSummary, type Role } from '../../contract.js';
import { ApiError, errorCode, type Api } from './api.js';
import { button, h } from './dom.js';
import { sentence } from './words.js';

const NONE_YET = 'No evidence report yet: run toneguard evidence --out DIR';

/** A verdict as a mark and a word, so that it does not rest on colour alone. */
function mark(pass: boolean): HTMLSpanElement {
  return h('span', { className: pass ? 'mark pass' : 'mark fail', text: pass ? '✓ pass' : '✗ fail' });
}

function row(term: string, value: string, pass?: boolean): Node[] {
  const dd = h('dd', { text: value });
  if (pass !== undefined) dd.append(' ', mark(pass));
  return [h('dt', { text: term }), dd];
}

function rows(summary: EvidenceSummary): Node[] {
  const { battery, audit, config, recordings } = summary;
  const batteryPassed = battery.checks.filter((c) => c.pass).length;
  return [
    ...row('Masking battery', `${batteryPassed} of ${battery.checks.length} checks pass`, batteryPassed === battery.checks.length),
    ...row('Audit chain', audit.verified ? `intact: ${audit.records} records` : 'not verified', audit.verified),
    ...row('Key versions', summary.keyVersions === null ? 'keyring not readable' : String(summary.keyVersions), summary.keyVersions !== null),
    ...row('Configuration fingerprint', config.fingerprint),
    ...row('Production checks', `${config.checksPassed} pass, ${config.checksFailed} fail`, config.checksFailed === 0),
    ...row(
      'Recordings',
      recordings ? `${recordings.sampled} of ${recordings.total} sampled, ${recordings.verified} verified free of tones` : 'not readable',
      recordings !== null && recordings.verified === recordings.sampled,
    ),
  ];
}

/** For auditors and admins: the digest of the last `toneguard evidence` run, from `GET /v1/evidence`. */
export class EvidencePanel {
  readonly section: HTMLElement;
  private readonly verdict = h('p', { className: 'verdict' });
  private readonly generated = h('p', { className: 'hint' });
  private readonly figures = h('dl');
  private readonly checks = h('ul', { className: 'battery-checks' });
  private readonly reload = button('Reload');

  constructor(private readonly api: Api) {
    this.reload.addEventListener('click', () => void this.load());
    this.section = h('section', { className: 'panel evidence', attrs: { 'aria-labelledby': 'evidence-title', 'aria-busy': 'false' } }, [
      h('h2', { text: 'Evidence for assessors', attrs: { id: 'evidence-title' } }),
      this.verdict,
      this.generated,
      this.figures,
      this.checks,
      h('div', { className: 'actions' }, [this.reload]),
    ]);
    this.section.hidden = true;
  }

  /** Whether `roles` may read the evidence: the panel shows, and loads, only for them. */
  static shownTo(roles: readonly Role[]): boolean {
    return roles.some((role) => EVIDENCE_ROLES.includes(role));
  }

  render(roles: readonly Role[]): void {
    this.section.hidden = !EvidencePanel.shownTo(roles);
  }

  async load(): Promise<void> {
    this.reload.disabled = true;
    this.section.setAttribute('aria-busy', 'true');
    try {
      this.show(await this.api<EvidenceSummary>('GET', EVIDENCE_PATH));
    } catch (err) {
      this.clear(err instanceof ApiError && err.code === 'evidence_not_found' ? NONE_YET : sentence(errorCode(err)));
    } finally {
      this.reload.disabled = false;
      this.section.setAttribute('aria-busy', 'false');
    }
  }

  clear(text = ''): void {
    this.verdict.replaceChildren(text);
    this.generated.textContent = '';
    this.figures.replaceChildren();
    this.checks.replaceChildren();
  }

  private show(summary: EvidenceSummary): void {
    this.verdict.replaceChildren('Evidence report: ', mark(summary.pass));
    this.generated.textContent = `Generated ${new Date(summary.generatedAt).toLocaleString()} (${summary.generatedAt}) by Toneguard ${summary.build.version}.`;
    this.figures.replaceChildren(...rows(summary));
    this.checks.replaceChildren(...summary.battery.checks.map((c) => h('li', { text: `${c.name} ` }, [mark(c.pass)])));
  }
}
