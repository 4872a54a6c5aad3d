import { LEAK_DIGITS, LEAK_LIMIT_MS } from './battery.js';
import { evidencePasses, type EvidenceData } from './collect.js';
import { barChart, escapeXml as esc, lineChart } from './svg.js';

/** The evidence report as one self-contained HTML page: inline CSS, inline SVG, no scripts. */

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; } th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } .pass { color: #1e7b34; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.verdict { padding: .6rem 1rem; border-radius: 4px; margin: 1rem 0; } .verdict.pass { background: #e6f4ea; } .verdict.fail { background: #fce8e6; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; } figcaption { font-size: 12px; color: #555; max-width: 520px; }
code { font-size: 12px; word-break: break-all; } .muted { color: #666; font-size: 12px; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
`;

const mark = (pass: boolean): string => (pass ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>');

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
}

function batterySection(data: EvidenceData): string {
  const b = data.battery;
  const share = (points: { x: number; y: number }[]) => points.map((p) => ({ x: p.x, y: p.y * 100 }));
  const perDigitWorst = [...LEAK_DIGITS].map((_, i) => Math.max(...b.leak.map((c) => c.perDigitMs[i])));
  const charts = [
    figure(
      lineChart({ title: 'Detection against level', xLabel: 'level per tone (dBm0)', yLabel: 'keys detected (%)', series: [{ label: 'detected', points: share(b.levelCurve) }], yRange: [0, 100], bands: [{ from: -25, to: 0, label: 'Q.24: must detect' }] }),
      'Share of the 16 keys detected, one 50 ms tone each, against the level of each tone. Q.24 requires detection from 0 to −25 dBm0 and rejection at −55 dBm0.',
    ),
    figure(
      lineChart({ title: 'Detection against tone length', xLabel: 'tone length (ms)', yLabel: 'keys detected (%)', series: [{ label: 'detected', points: share(b.durationCurve) }], yRange: [0, 100], bands: [{ from: 40, to: 50, label: 'must detect' }] }),
      'Tones of 40 ms or longer must be detected, 23 ms or shorter rejected (block alignment and phase varied per key).',
    ),
    figure(
      lineChart({ title: 'Detection against frequency offset', xLabel: 'frequency offset (%)', yLabel: 'keys detected (%)', series: [{ label: 'detected', points: share(b.deviationCurve) }], yRange: [0, 100], bands: [{ from: -1.5, to: 1.5, label: 'must detect' }] }),
      'Both tones offset by the same relative amount. Q.24: accept within ±1.5%, reject beyond ±3.5%.',
    ),
    figure(
      barChart({ title: 'Masking leak per digit', xLabel: 'keypress (worst of the signal cases)', yLabel: 'tone leaked (ms)', labels: [...LEAK_DIGITS], values: perDigitWorst, limit: LEAK_LIMIT_MS, limitLabel: `limit ${LEAK_LIMIT_MS} ms` }),
      `Milliseconds of tone above −45 dBm0 that passed the masker, per keypress, worst over ${b.leak.length} signal cases (nominal, ±1.5%, twist, noise).`,
    ),
  ];
  const leakRows = b.leak.map((c) => [esc(c.name), `${c.maxMs.toFixed(2)} ms`, mark(c.maxMs <= LEAK_LIMIT_MS)]);
  const independent = b.independent.available
    ? ''
    : '<p class="muted">multimon-ng or sox is not installed here: the independent-decoder check was not run.</p>';
  return `<h2 id="battery">1. Masking battery</h2>
<p>The DTMF receiver and tone masker of this build, measured on synthetic signals (ITU-T Q.24 receiver figures, masking leak, added latency), with multimon-ng as the independent decoder.</p>
${table(['check', 'requirement', 'measured', 'result'], b.checks.map((c) => [esc(c.name), esc(c.requirement), esc(c.measured), mark(c.pass)]))}
${independent}
<div class="charts">${charts.join('')}</div>
<h3>Leak by signal case</h3>
${table(['signal case', 'worst digit', 'result'], leakRows)}`;
}

function auditSection(data: EvidenceData): string {
  const a = data.audit;
  const body =
    'error' in a
      ? `<p>${mark(false)} ${esc(a.error)}</p>`
      : a.result.ok
        ? `<p>${mark(true)} The hash chain is intact: ${a.result.records} records${a.files > 0 ? ` in ${a.files} files` : ''}, sequence ${a.result.firstSeq ?? '–'} to ${a.result.lastSeq ?? '–'}.</p>`
        : `<p>${mark(false)} The chain breaks at ${esc(a.result.file)} ${a.result.seq === undefined ? `line ${a.result.line}` : `seq ${a.result.seq}`}: ${esc(a.result.reason)}.</p>`;
  return `<h2 id="audit">2. Audit trail</h2><p class="muted">Trail: <code>${esc(a.dir)}</code>. Every record carries an HMAC over its content and the previous record's MAC (<code>toneguard audit verify</code>).</p>${body}`;
}

function keysSection(data: EvidenceData): string {
  if ('error' in data.keys) return `<h2 id="keys">3. Key versions</h2><p>${mark(false)} ${esc(data.keys.error)}</p>`;
  const rows = data.keys.versions.map((v) => [String(v.version), esc(v.createdAt ?? 'unknown'), v.current ? 'current' : '', v.loaded ? 'yes' : '<span class="fail">no</span>', String(v.records), String(v.subjectKeys)]);
  return `<h2 id="keys">3. Key versions</h2><p class="muted">Key-encryption key versions of the vault (<code>toneguard keys list</code>): dates and counts, never key material.</p>${table(['version', 'created', '', 'loaded', 'records', 'subject keys'], rows)}`;
}

function configSection(data: EvidenceData): string {
  const rows = data.config.checks.map((c) => [esc(c.name), mark(c.pass), esc(c.problem ?? '')]);
  const passed = data.config.checks.filter((c) => c.pass).length;
  return `<h2 id="config">4. Configuration</h2>
<p>Profile: <strong>${esc(data.profile)}</strong>. Fingerprint (SHA-256 over the configuration, secrets reduced to set/unset): <code>${esc(data.config.fingerprint)}</code></p>
<p>Production checks, run against this configuration: ${passed} of ${data.config.checks.length} pass.${data.profile === 'production' ? '' : ' <span class="muted">This is not a production configuration; a production start refuses any failing check.</span>'}</p>
${table(['check', 'result', 'problem'], rows)}`;
}

function recordingsSection(data: EvidenceData): string {
  const r = data.recordings;
  if ('error' in r) return `<h2 id="recordings">5. Recordings</h2><p>${mark(false)} ${esc(r.error)}</p>`;
  const rows = r.sample.map((s) =>
    s.result.ok
      ? [`<code>${esc(s.file)}</code>`, esc(s.modified), `${(s.result.durationMs / 1000).toFixed(1)} s`, esc(s.result.channels.map((c) => `${c.name}: ${c.digitsFound}`).join(', ')), mark(s.result.clean)]
      : [`<code>${esc(s.file)}</code>`, esc(s.modified), '', esc(`${s.result.code}: ${s.result.message}`), mark(false)],
  );
  const body = r.sample.length === 0 ? '<p>No recordings to verify.</p>' : table(['recording', 'written', 'length', 'DTMF digits found per channel', 'result'], rows);
  return `<h2 id="recordings">5. Recordings</h2><p class="muted">The newest ${r.sample.length} of ${r.total} recordings in <code>${esc(r.dir)}</code>, decrypted and scanned for DTMF by the receiver (<code>toneguard recording verify</code>). A clean recording holds no keypress tone.</p>${body}`;
}

export function renderEvidenceHtml(data: EvidenceData): string {
  const pass = evidencePasses(data);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Toneguard evidence ${esc(data.generatedAt)}</title><style>${CSS}</style></head>
<body>
<h1>Toneguard evidence report</h1>
<p class="muted">Generated ${esc(data.generatedAt)} · Toneguard ${esc(data.build.version)} · Node ${esc(data.build.node)} · ${esc(data.build.platform)}</p>
<div class="verdict ${pass ? 'pass' : 'fail'}">${mark(pass)} ${pass ? 'The masking battery passes, the audit chain is intact and every sampled recording is clean.' : 'At least one of the masking battery, the audit chain or the sampled recordings did not pass: see below.'}</div>
${batterySection(data)}
${auditSection(data)}
${keysSection(data)}
${configSection(data)}
${recordingsSection(data)}
</body></html>
`;
}
