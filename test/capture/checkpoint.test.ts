import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/audit/logger.js';
import { MemoryAuditSink } from '../../src/audit/types.js';
import type { CaptureCheckpoint } from '../../src/capture/checkpoint.js';
import { createCaptureService } from '../../src/capture/service.js';
import type { CaptureView } from '../../src/capture/types.js';
import { openCheckpoint, sealCheckpoint } from '../../src/cluster/checkpoint.js';
import { createCheckpointPort, MemoryCaptureCheckpoints } from '../../src/cluster/checkpoint-store.js';
import { Keyring } from '../../src/vault/keyring.js';
import { AGENT, FakeClock, FakeTokenizer, captureConfig, flush, typeKeys } from './fakes.js';

const keyring = () => new Keyring([{ version: 1, key: randomBytes(32), createdAt: null }]);
const ascii = (text: string) => Uint8Array.from(Buffer.from(text, 'ascii'));

function checkpoint(): CaptureCheckpoint {
  return {
    captureId: 'cap_test',
    callSid: 'CA' + '1'.repeat(32),
    request: { fields: [{ name: 'card_number' }, { name: 'cvv' }], mode: 'inline', options: {}, actor: AGENT },
    view: { id: 'cap_test', callSid: 'CA' + '1'.repeat(32), mode: 'inline', state: 'active', currentField: 'cvv', fields: [], result: null, error: null, createdAt: 'x', updatedAt: 'x', version: 3 },
    completed: new Map([['card_number', ascii('4111111111111111')]]),
  };
}

describe('capture checkpoint sealing', () => {
  it('opens what it sealed, and never carries a value in the clear', () => {
    const ring = keyring();
    const sealed = sealCheckpoint(ring, checkpoint(), 'node-a', 1);
    expect(JSON.stringify(sealed)).not.toContain('4111111111111111');
    const opened = openCheckpoint(ring, sealed);
    expect(Buffer.from(opened.completed.get('card_number')!).toString('ascii')).toBe('4111111111111111');
    expect(opened.view.version).toBe(3);
  });

  it('refuses a checkpoint whose values, view, owner, ids or tag were altered, or another keyring', () => {
    const ring = keyring();
    const sealed = sealCheckpoint(ring, checkpoint(), 'node-a', 1);
    const flipped = Buffer.from(sealed.data, 'base64url');
    flipped[0] ^= 1;
    const tampered = [
      { ...sealed, data: flipped.toString('base64url') },
      { ...sealed, view: { ...sealed.view, currentField: 'card_number' } },
      { ...sealed, request: { ...sealed.request, fields: [{ name: 'card_number' }] } },
      { ...sealed, owner: 'node-b' },
      { ...sealed, captureId: 'cap_other' },
      { ...sealed, callSid: 'CA' + '2'.repeat(32) },
      { ...sealed, tag: Buffer.alloc(16).toString('base64url') },
    ];
    for (const altered of tampered) expect(() => openCheckpoint(ring, altered)).toThrow(expect.objectContaining({ code: 'checkpoint_invalid' }));
    expect(() => openCheckpoint(keyring(), sealed)).toThrow(expect.objectContaining({ code: 'checkpoint_invalid' }));
  });
});

/** Two capture services on one checkpoint store: node A takes the capture, node B resumes it. */
function twoNodes() {
  const store = new MemoryCaptureCheckpoints();
  const ring = keyring();
  const node = (nodeId: string) => {
    const clock = new FakeClock();
    const tokenizer = new FakeTokenizer();
    const audit = new MemoryAuditSink();
    const checkpoints = createCheckpointPort({ store, keyring: ring, nodeId, ttlMs: 60_000, logger: silentLogger() });
    const service = createCaptureService({ config: captureConfig(), tokenizer, audit, clock, checkpoints });
    const views: CaptureView[] = [];
    service.onView((view) => views.push(view));
    return { clock, tokenizer, audit, service, views };
  };
  return { store, a: node('node-a'), b: node('node-b') };
}

const CALL = 'CA' + 'a'.repeat(32);

describe('capture resume from a checkpoint', () => {
  it('keeps the completed fields, resets the field in progress, marks the view resumed, and tokenizes everything', async () => {
    const { store, a, b } = twoNodes();
    const session = a.service.start({ callSid: CALL, fields: [{ name: 'card_number' }, { name: 'expiry' }, { name: 'cvv' }], actor: AGENT });
    let at = typeKeys(session as never, '4111111111111111#');
    at = typeKeys(session as never, '12', at);
    await flush();
    const lastSeen = a.views[a.views.length - 1];
    expect(lastSeen.fields[1]).toMatchObject({ state: 'capturing', digitCount: 2 });
    const saved = await store.get(CALL);
    expect(saved).toMatchObject({ owner: 'node-a', captureId: session.id });
    expect(JSON.stringify(saved)).not.toContain('4111111111111111');

    // Node A is gone (nothing of it runs any more); node B takes the call's media.
    const resumed = await b.service.resume!(CALL);
    expect(resumed?.id).toBe(session.id);
    const view = resumed!.view();
    expect(view.resumedAt).toBeDefined();
    expect(view.version).toBeGreaterThan(lastSeen.version);
    expect(view.currentField).toBe('expiry');
    expect(view.fields.map((f) => [f.name, f.state, f.digitCount])).toEqual([
      ['card_number', 'complete', 16],
      ['expiry', 'capturing', 0],
      ['cvv', 'pending', 0],
    ]);
    expect(view.fields[0]).toMatchObject({ brand: 'visa', last4: '1111', valid: true });
    expect(b.audit.events.some((e) => e.action === 'capture.resumed' && e.resource?.id === session.id)).toBe(true);
    await flush();
    expect((await store.get(CALL))?.owner).toBe('node-b');

    // The caller keys the field in progress again, then the rest.
    typeKeys(resumed as never, '1230737', 10_000);
    await flush();
    await flush();
    expect(resumed!.view().state).toBe('complete');
    expect(b.tokenizer.received[0]).toEqual(new Map([['card_number', '4111111111111111'], ['expiry', '1230'], ['cvv', '737']]));
    await flush();
    expect(await store.get(CALL)).toBeUndefined();
  });

  it('resumes nothing without a checkpoint, and a cancelled capture leaves none', async () => {
    const { store, a, b } = twoNodes();
    expect(await b.service.resume!(CALL)).toBeUndefined();
    const session = a.service.start({ callSid: CALL, fields: [{ name: 'card_number' }, { name: 'cvv' }], actor: AGENT });
    typeKeys(session as never, '4111111111111111#');
    await flush();
    expect(await store.get(CALL)).toBeDefined();
    session.cancel('agent_cancelled', AGENT);
    await flush();
    expect(await store.get(CALL)).toBeUndefined();
  });

  it('fails a lost capture with node_lost from its saved view alone', async () => {
    const { store, a, b } = twoNodes();
    a.service.start({ callSid: CALL, fields: [{ name: 'card_number' }], actor: AGENT });
    await flush();
    const saved = (await store.get(CALL))!;
    b.service.failLost!(saved.view);
    const failed = b.views[b.views.length - 1];
    expect(failed).toMatchObject({ id: saved.captureId, state: 'failed', error: { code: 'node_lost' }, currentField: null });
    expect(failed.fields[0].state).toBe('cancelled');
    expect(failed.version).toBeGreaterThan(saved.view.version);
    expect(b.audit.events.some((e) => e.action === 'capture.failed' && e.details?.code === 'node_lost')).toBe(true);
  });
});
