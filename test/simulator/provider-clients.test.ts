import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import plivo from 'plivo';
import { WebhookResponse } from '@jambonz/node-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { JambonzStreamClient } from '../../src/simulator/jambonz/stream-client.js';
import { parseListen, postJambonzWebhook } from '../../src/simulator/jambonz/webhooks.js';
import { PlivoStreamClient } from '../../src/simulator/plivo/stream-client.js';
import { parseStreamXml, postPlivoWebhook } from '../../src/simulator/plivo/webhooks.js';
import { jambonzListenDocument } from '../../src/telephony/jambonz/listen.js';
import { jambonzWire } from '../../src/telephony/jambonz/wire.js';
import { JAMBONZ_SUBPROTOCOL } from '../../src/telephony/jambonz/ws-auth.js';
import type { InboundMediaEvent } from '../../src/media/types.js';
import type { MediaWire } from '../../src/telephony/media-socket.js';
import { plivoWire } from '../../src/telephony/plivo/wire.js';
import { plivoStreamXml } from '../../src/telephony/plivo/xml.js';

const servers: Server[] = [];
const openSockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of openSockets.splice(0)) ws.terminate();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A socket server that runs a provider's wire on every message and answers what the runner would send. */
async function wireServer(wire: MediaWire, protocol?: string) {
  const events: InboundMediaEvent[] = [];
  const refusals: string[] = [];
  const upgrades: IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  const server = createServer();
  const wss = new WebSocketServer({ server, handleProtocols: (offered) => (protocol && offered.has(protocol) ? protocol : false) });
  wss.on('connection', (ws, req) => {
    upgrades.push(req);
    sockets.push(ws);
    openSockets.push(ws);
    const session = wire.session();
    ws.on('message', (data: Buffer, isBinary) => {
      const parsed = session.parse(data, isBinary);
      if (!parsed.ok) return void refusals.push(parsed.reason);
      const event = parsed.event.kind === 'audio' ? { kind: 'audio' as const, samples: Int16Array.from(parsed.event.samples) } : parsed.event;
      events.push(event);
      if (event.kind === 'start') {
        const encoder = session.encoder(event.start);
        ws.send(encoder.audio(new Int16Array(event.start.format.sampleRate / 50).fill(1234)) as Buffer, { binary: encoder.binary });
        ws.send(encoder.mark('m1') as string);
        ws.send(encoder.clear() as string);
      }
    });
  });
  const url = await listen(server);
  return { url, events, refusals, upgrades, sockets };
}

const until = async (done: () => boolean) => {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('simulated Plivo', () => {
  const authToken = 'plivo-sim-token';

  it('signs webhooks as Plivo does (the plivo SDK validates them)', async () => {
    const seen: unknown[] = [];
    const url = await listen(
      createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
          const signature = String(req.headers['x-plivo-signature-v3']);
          const nonce = String(req.headers['x-plivo-signature-v3-nonce']);
          seen.push(plivo.validateV3Signature('POST', `https://tg.example${req.url}`, nonce, authToken, signature, params));
          res.end('ok');
        });
      }),
    );
    await postPlivoWebhook({ baseUrl: url, publicUrl: 'https://tg.example', authToken }, '/plivo/voice/agent?call=c0ffee00-1', { CallUUID: 'c0ffee00-2', From: '+15005550006', Direction: 'outbound' });
    await postPlivoWebhook({ baseUrl: url, publicUrl: 'https://tg.example', authToken }, 'https://tg.example/plivo/voice/inbound', { CallUUID: 'c0ffee00-3' });
    expect(seen).toEqual([true, true]);
  });

  it('speaks the wire Toneguard parses: start with the XML parameters, media, dtmf; answers checkpoints', async () => {
    const server = await wireServer(plivoWire);
    const xml = plivoStreamXml({ streamUrl: 'wss://tg.example/media/plivo', format: { encoding: 'pcmu', sampleRate: 8000 }, parameters: { leg: 'caller', credential: 'a.b_c-d' } });
    const instruction = parseStreamXml(xml);
    if (!instruction) throw new Error('no <Stream>');
    const client = await PlivoStreamClient.open({ baseUrl: server.url, publicUrl: 'https://tg.example', authToken }, { callId: 'c0ffee00-0000-4000-8000-000000000001', authId: 'MAXXXXXXXXXXXXXXXXXX', instruction });
    client.sendAudio(new Int16Array(160).fill(500));
    client.sendDtmf('7');
    await until(() => server.events.length >= 5 && client.received.length > 0 && client.clears > 0);
    expect(server.refusals).toEqual([]);
    expect(server.events[0]).toMatchObject({ kind: 'start', start: { legCallId: 'c0ffee00-0000-4000-8000-000000000001', parameters: { leg: 'caller', credential: 'a.b_c-d' } } });
    expect(server.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['audio', 'dtmf', 'mark', 'connected']));
    expect(client.received[0].length).toBe(160);
    expect(client.checkpoints).toEqual(['m1']);
    const upgrade = server.upgrades[0];
    expect(plivo.validateV3Signature('GET', 'wss://tg.example/media/plivo', String(upgrade.headers['x-plivo-signature-v3-nonce']), authToken, String(upgrade.headers['x-plivo-signature-v3']), {})).toBe(true);
    await client.stop();
  });
});

describe('simulated jambonz', () => {
  const webhookSecret = 'jambonz-sim-secret';

  it('signs webhooks as jambonz does (@jambonz/node-client verifies them)', async () => {
    const app = express();
    const verdicts: string[] = [];
    app.post('/hook', express.json(), (req, res) => {
      try {
        WebhookResponse.verifyJambonzSignature(webhookSecret)(req, res, () => verdicts.push('valid'));
      } catch {
        verdicts.push('refused');
      }
      res.json([]);
    });
    const url = await listen(createServer(app));
    const target = { baseUrl: url, publicUrl: 'https://tg.example', webhookSecret };
    await postJambonzWebhook(target, '/hook', { call_sid: 'ac5c697a-0001', from: '+15005550006', direction: 'inbound' });
    await postJambonzWebhook({ ...target, webhookSecret: 'other' }, '/hook', { call_sid: 'ac5c697a-0002' });
    expect(verdicts).toEqual(['valid', 'refused']);
  });

  it('speaks the wire Toneguard parses: subprotocol, Basic auth, metadata, binary L16, dtmf; answers marks', async () => {
    const server = await wireServer(jambonzWire({ streaming: true }), JAMBONZ_SUBPROTOCOL);
    const document = jambonzListenDocument({ streamUrl: 'wss://tg.example/media/jambonz', actionHook: 'https://tg.example/x', sampleRate: 8000, parameters: { leg: 'agent', agent: 'alice', credential: 'c' }, wsAuth: { username: 'u', password: 'p' }, streaming: true });
    const listenVerb = parseListen(JSON.stringify(document));
    if (!listenVerb) throw new Error('no listen');
    const client = await JambonzStreamClient.open({ baseUrl: server.url, publicUrl: 'https://tg.example', webhookSecret }, { callSid: 'ac5c697a-0003', from: '+1', to: '+2', direction: 'outbound', accountSid: 'acct', listen: listenVerb });
    expect(client.ws.protocol).toBe(JAMBONZ_SUBPROTOCOL);
    client.sendAudio(new Int16Array(160).fill(-500));
    client.sendDtmf('#');
    await until(() => server.events.length >= 4 && client.kills > 0);
    expect(server.refusals).toEqual([]);
    expect(server.events[0]).toMatchObject({ kind: 'start', start: { legCallId: 'ac5c697a-0003', format: { encoding: 'l16', sampleRate: 8000 }, parameters: { leg: 'agent', agent: 'alice', credential: 'c' } } });
    expect(server.events.map((e) => e.kind).sort()).toEqual(['audio', 'dtmf', 'mark', 'start']);
    expect(Array.from(client.received[0].slice(0, 3))).toEqual([1234, 1234, 1234]);
    expect(server.upgrades[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    await client.stop();
  });
});
