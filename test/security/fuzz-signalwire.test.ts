/**
 * SignalWire's surfaces under property-based fuzz (issue 13, security parity), beside a healthy
 * SignalWire call streaming both legs in real time:
 *  1. its webhooks (`/signalwire/voice/inbound|agent`, `/signalwire/status/call|stream`): random
 *     form fields (UUID call ids, huge values, unicode, repeated keys), JSON bodies, wrong content
 *     types, random query strings; unsigned or wrongly signed (`X-SignalWire-Signature`), and signed;
 *  2. `WS /media/signalwire`: upgrades with no, forged or expired-looking bearer tokens; then, on
 *     sockets with a live token, random text, JSON, binary and oversized frames, Twilio-shaped
 *     messages with bad payloads, and starts that try to take over the healthy call.
 * Asserted as in `fuzz.test.ts`: no 5xx, refusals are JSON errors, wrong signatures 403, signed
 * webhooks answer cXML or 204 or a 4xx JSON error, fuzz sockets close only with
 * 1000/1008/1009/4xxx, the healthy call keeps flowing and is never taken over, no PAN echoed.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SIGNALWIRE_CALL_DIALECT, startSignalWireTestBed, TEST_SIGNALWIRE_PROJECT } from '../helpers/signalwire.js';
import { parseStreamTwiml, postTwilioWebhook, type TwilioTestBed } from '../helpers/twilio.js';
import { expectSafeAnswer, Tally } from './fuzz/answers.js';
import { HealthyCall } from './fuzz/healthy-call.js';
import { forgedCredential, mediaFrame, playFuzzStream, startMessage, streamOpening, type MediaFrame, type StreamOpening } from './fuzz/media.js';
import { FUZZ_PANS } from './fuzz/values.js';
import { isTwilioSuccess, sendWebhook, signing, webhookRequests } from './fuzz/webhooks.js';

const PATHS = ['/signalwire/voice/inbound', '/signalwire/voice/agent', '/signalwire/status/call', '/signalwire/status/stream'] as const;
const runs = (numRuns: number) => ({ numRuns, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) });
const uuid = fc.uuid();
const request = webhookRequests(PATHS, uuid);
/**
 * Signed requests carry each field once: SignalWire's SDK (a fork of Twilio's 3.x helper) folds a
 * repeated field into one `a,b` value where Twilio's current SDK signs each value, and SignalWire's
 * voice webhooks repeat no field. Repeated fields stay in the unsigned and wrongly signed runs.
 */
const signedRequest = request.map((req) => ({ ...req, fields: req.fields.filter(([key], i) => req.fields.findIndex(([k]) => k === key) === i) }));
const SIGNATURE_HEADER = SIGNALWIRE_CALL_DIALECT.stream.signatureHeader;

describe('SignalWire fuzz: nothing crashes, nothing leaks, the healthy call keeps flowing', () => {
  let bed: TwilioTestBed;
  let healthy: HealthyCall;
  const signed = new Tally();
  const streams = new Tally();
  const wsUrl = () => `${bed.server.url.replace(/^http/, 'ws')}/media/signalwire`;

  beforeAll(async () => {
    bed = await startSignalWireTestBed({ http: { requestsPerMinutePerIp: 1_000_000, upgradesPerMinutePerIp: 1_000_000 } });
    healthy = await HealthyCall.start(bed);
  }, 30_000);
  afterAll(async () => {
    await healthy?.hangUp();
    await bed?.close();
  });

  /** A fresh call's cXML: its bearer token for the upgrade, and its caller-leg parameters. */
  const freshCall = async () => {
    const callSid = randomUUID();
    const answer = await postTwilioWebhook(bed.target, '/signalwire/voice/inbound', { AccountSid: TEST_SIGNALWIRE_PROJECT, CallSid: callSid }, undefined, SIGNALWIRE_CALL_DIALECT.stream);
    const stream = parseStreamTwiml(answer.body)!;
    return { callSid, bearer: stream.attributes.authBearerToken, parameters: stream.parameters };
  };

  const opening = async (kind: StreamOpening): Promise<{ bearer: string; frames: MediaFrame[] }> => {
    const own = await freshCall();
    switch (kind) {
      case 'none':
        return { bearer: own.bearer, frames: [] };
      case 'hijack-caller':
        return { bearer: own.bearer, frames: [startMessage(healthy.call.callSid, { leg: 'caller' })] };
      case 'hijack-agent':
        return { bearer: own.bearer, frames: [startMessage(healthy.call.agentCallSid, { leg: 'agent', agent: 'mallory', credential: healthy.call.agent.parameters.credential })] };
      case 'healthy-sid-forged-credential':
        return { bearer: own.bearer, frames: [startMessage(healthy.call.callSid, { leg: 'caller', credential: forgedCredential() })] };
      case 'own-call':
        return { bearer: own.bearer, frames: [startMessage(own.callSid, own.parameters)] };
    }
  };

  it('webhooks: unsigned or wrongly signed → 403 JSON; signed → cXML, 204 or a 4xx JSON error', async () => {
    await healthy.across(async () => {
      await fc.assert(
        fc.asyncProperty(request, signing, async (req, how) => {
          const answer = await sendWebhook(bed.target, req, how, SIGNATURE_HEADER);
          expectSafeAnswer(answer);
          expect(answer.status).toBe(answer.bodyBytes > bed.server.context.config.http.bodyLimitBytes ? 413 : 403);
        }),
        runs(200),
      );
      await fc.assert(
        fc.asyncProperty(signedRequest, async (req) => {
          const answer = await sendWebhook(bed.target, req, 'valid', SIGNATURE_HEADER);
          expectSafeAnswer(answer);
          expect(answer.status).not.toBe(403);
          if (answer.status < 400) expect(isTwilioSuccess(answer)).toBe(true);
          signed.add(`${req.path} ${answer.status < 400 ? 'accepted' : 'refused'}`);
        }),
        runs(300),
      );
    });
    for (const path of PATHS) expect(signed.count(`${path} accepted`), path).toBeGreaterThan(0);
  });

  it('media upgrades without a live bearer token are refused with 403, whatever they carry', async () => {
    const forged = fc.oneof(
      fc.constant(undefined),
      fc.stringMatching(/^[\x21-\x7e]{0,80}$/).map((t) => `Bearer ${t}`),
      fc.stringMatching(/^[\x21-\x7e]{1,80}$/),
      fc.tuple(fc.stringMatching(/^[0-9a-z]{1,12}$/), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)).map(([e, m]) => `Bearer ${e}.${m}`),
    );
    await healthy.across(() =>
      fc.assert(
        fc.asyncProperty(forged, async (authorization) => {
          const status = await new Promise<number>((resolve) => {
            const ws = new WebSocket(wsUrl(), { headers: authorization === undefined ? {} : { authorization } });
            ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
            ws.once('open', () => {
              ws.terminate();
              resolve(101);
            });
            ws.once('error', () => resolve(-1));
          });
          expect([403, -1]).toContain(status);
        }),
        runs(100),
      ),
    );
  });

  it('media streams: garbage closes only the fuzz socket (1000/1008/1009/4xxx) and never takes over the healthy call', async () => {
    await healthy.across(() =>
      fc.assert(
        fc.asyncProperty(streamOpening, fc.array(mediaFrame, { maxLength: 25 }), async (kind, frames) => {
          const opened = await opening(kind);
          const outcome = await playFuzzStream(bed.target, [...opened.frames, ...frames], { path: '/media/signalwire', headers: { authorization: `Bearer ${opened.bearer}` } });
          const code = outcome.closedByServer?.code;
          if (code !== undefined) expect([1000, 1008, 1009].includes(code) || (code >= 4000 && code < 5000), `close code ${code}`).toBe(true);
          if (kind.startsWith('hijack') || kind === 'healthy-sid-forged-credential') expect(outcome.closedByServer).toEqual({ code: 1008, reason: 'credential_invalid' });
          expect(bed.server.context.calls.get(healthy.call.callSid)).toMatchObject({ state: 'bridged', provider: 'signalwire', agentProviderCallId: healthy.call.agentCallSid });
          streams.add(outcome.closedByServer ? `closed ${outcome.closedByServer.reason}` : 'survived');
          for (const text of outcome.received) for (const pan of FUZZ_PANS) expect(text.includes(pan)).toBe(false);
        }),
        runs(200),
      ),
    );
    expect(streams.count('survived')).toBeGreaterThan(0);
  });

  it('afterwards: the service is alive, no request reached the 500 handler, no log line or audit record carries a test PAN', async () => {
    expect((await fetch(`${bed.server.url}/healthz`)).status).toBe(200);
    expect(bed.server.logLines.some((line) => line.includes('unhandled error'))).toBe(false);
    (bed.server.context.audit as { flush?: () => void }).flush?.();
    const audit = JSON.stringify(bed.server.auditRecords());
    for (const pan of FUZZ_PANS) {
      expect(bed.server.logLines.some((line) => line.includes(pan))).toBe(false);
      expect(audit.includes(pan)).toBe(false);
    }
  });
});
