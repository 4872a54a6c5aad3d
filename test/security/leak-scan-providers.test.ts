/**
 * Full-flow leak scan for the Telnyx and Vonage adapters: the demo call (card, expiry, CVV keyed
 * as in-band tones with the provider's DTMF events) through each provider's wire format, plus a
 * forged webhook carrying a PAN. Then logs, the audit trail, /metrics, the requests the service
 * sent to the provider's REST API and every file under the data dir are byte-searched for the
 * secrets (the independent scanner of test/security/leak), and multimon-ng judges what the agent heard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import { postTelnyxWebhook, telnyxEvent } from '../../src/simulator/telnyx/webhooks.js';
import { getVonageAnswer } from '../../src/simulator/vonage/webhooks.js';
import { VonageSigner } from '../../src/simulator/vonage/signer.js';
import { TelnyxSigner } from '../../src/simulator/telnyx/signer.js';
import { startTelnyxTestBed, TELNYX_AGENT } from '../helpers/telnyx.js';
import { DEMO_KEYS, restAgentControl, runCardCaptureScenario, type ProviderPlayer, type ScenarioResult } from '../helpers/twilio.js';
import { startVonageTestBed, VONAGE_AGENT } from '../helpers/vonage.js';
import type { TestServer } from '../helpers/server.js';
import { filesUnder } from './leak/artefacts.js';
import { SecretScanner } from './leak/secrets.js';

const PAN = DEMO_KEYS.card.replace('#', '');
const FORGED_PAN = '5555555555554444';
const scanner = new SecretScanner({
  cards: [
    { label: 'PAN', value: PAN },
    { label: 'forged PAN', value: FORGED_PAN },
  ],
  long: [],
  short: [
    { label: 'CVV', value: DEMO_KEYS.cvv },
    { label: 'expiry', value: DEMO_KEYS.expiry },
  ],
});

interface Bed {
  server: TestServer;
  player: ProviderPlayer;
  agent: string;
  /** What the service sent to the provider's REST API. */
  restTraffic(): unknown[];
  /** Sends a forged webhook with a PAN in it; resolves to its status. */
  forge(): Promise<number>;
  close(): Promise<void>;
}

const beds: [string, () => Promise<Bed>][] = [
  [
    'telnyx',
    async () => {
      const bed = await startTelnyxTestBed();
      return {
        server: bed.server,
        player: bed.player,
        agent: TELNYX_AGENT,
        restTraffic: () => bed.standIn.commands,
        forge: async () => {
          const event = telnyxEvent('call.initiated', { call_control_id: 'v3:forged', from: FORGED_PAN, to: FORGED_PAN, direction: 'incoming' });
          return (await postTelnyxWebhook(bed.target, '/telnyx/voice/events', event, new TelnyxSigner().headers(JSON.stringify(event)))).status;
        },
        close: () => bed.close(),
      };
    },
  ],
  [
    'vonage',
    async () => {
      const bed = await startVonageTestBed();
      return {
        server: bed.server,
        player: bed.player,
        agent: VONAGE_AGENT,
        restTraffic: () => bed.standIn.requests,
        forge: async () => {
          const fields = { uuid: '63f61863-4a51-4f6b-86e1-46edebcf9356', from: FORGED_PAN, to: FORGED_PAN };
          return (await getVonageAnswer(bed.target, '/vonage/voice/answer', fields, await new VonageSigner().authorization(JSON.stringify(fields)))).status;
        },
        close: () => bed.close(),
      };
    },
  ],
];

describe.each(beds)('full-flow leak scan through %s: no captured digit leaves the process except as a token', (_name, start) => {
  let bed: Bed;
  let result: ScenarioResult;
  let forgedStatus: number;
  let metrics: string;
  let dataDirFiles: { path: string; bytes: Buffer }[] = [];

  beforeAll(async () => {
    bed = await start();
    const token = await mintDevToken(bed.server.context.config, { sub: bed.agent, role: 'agent' });
    result = await runCardCaptureScenario({ player: bed.player, agent: async () => restAgentControl(bed.server.url, token), speed: 2 });
    forgedStatus = await bed.forge();
    metrics = await bed.server.context.metrics.render();
    await bed.server.close();
    dataDirFiles = filesUnder(bed.server.dataDir);
  }, 90_000);
  afterAll(async () => {
    await bed?.close().catch(() => undefined);
  });

  it('the call captured the card to a token and the agent heard no digit', () => {
    expect(result.success).toBe(true);
    expect(result.agentHeard).toMatchObject({ digits: '', decoder: 'multimon-ng' });
    expect(forgedStatus).toBe(403);
  });

  it('no log line, audit record, metric or REST request holds a secret', () => {
    expect(bed.server.logLines.length).toBeGreaterThan(0);
    const hits = [
      ...bed.server.logLines.flatMap((line, i) => scanner.scan(`log line ${i}`, line)),
      ...scanner.scan('audit trail', JSON.stringify(bed.server.auditRecords())),
      ...scanner.scan('metrics', metrics),
      ...bed.restTraffic().flatMap((request, i) => scanner.scan(`REST request ${i}`, JSON.stringify(request))),
      ...scanner.scan('capture view', JSON.stringify(result.capture)),
    ];
    expect(hits).toEqual([]);
  });

  it('no file under the data dir holds a secret', () => {
    expect(dataDirFiles.length).toBeGreaterThan(0);
    expect(dataDirFiles.flatMap((f) => scanner.scan(f.path.slice(bed.server.dataDir.length + 1), f.bytes))).toEqual([]);
  });
});
