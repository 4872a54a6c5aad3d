import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaService, StreamCredentials, type LegOutput, type MediaService } from '../../src/media/index.js';
import { NARROWBAND_PCMU } from '../../src/media/types.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const CALL = 'CA' + 'd'.repeat(32);
const AGENT_CALL = 'CA' + 'e'.repeat(32);

const output = (): LegOutput => ({ sendAudio: () => true, sendMark: () => undefined, clear: () => undefined, close: () => undefined });

let server: TestServer;
let credentials: StreamCredentials;
let media: MediaService;

beforeAll(async () => {
  server = await startTestServer({ recording: { enabled: false } });
  credentials = new StreamCredentials(60_000);
  media = createMediaService({ ...server.context, config: server.context.config, credentials });
});

afterAll(async () => {
  await media.closeAll();
  await server.close();
});

const start = (legCallId: string, parameters: Record<string, string>) => ({ legCallId, streamId: 'MZ1', format: NARROWBAND_PCMU, parameters });

describe('legs reconnecting to a new node after a failover', () => {
  it('holds a resuming agent leg that arrives first until its caller leg opens the bridge', async () => {
    server.context.calls.upsert({ callSid: CALL, providerCallId: CALL, agentProviderCallId: AGENT_CALL, state: 'bridged', startedAt: new Date().toISOString() });
    const agentCredential = credentials.issue({ leg: 'agent', legCallId: AGENT_CALL, agentId: 'alice' });
    const agent = media.attach(start(AGENT_CALL, { leg: 'agent', agent: 'alice', credential: agentCredential, resume: '1' }), output());
    expect(agent).toBeInstanceOf(Promise);
    const caller = media.attach(start(CALL, { leg: 'caller', credential: credentials.issue({ leg: 'caller', legCallId: CALL }), resume: '1' }), output());
    expect(caller).toMatchObject({ leg: 'caller' });
    expect(await agent).toMatchObject({ leg: 'agent' });
    media.endCall(CALL, 'test_over');
  });

  it('still refuses at once an agent leg that arrives before its caller without resuming', () => {
    const call = 'CA' + 'f'.repeat(32);
    const agentCall = 'CA' + '9'.repeat(32);
    server.context.calls.upsert({ callSid: call, providerCallId: call, agentProviderCallId: agentCall, state: 'ringing', startedAt: new Date().toISOString() });
    const credential = credentials.issue({ leg: 'agent', legCallId: agentCall, agentId: 'alice' });
    expect(media.attach(start(agentCall, { leg: 'agent', agent: 'alice', credential }), output())).toEqual({ reason: 'unknown_call' });
  });
});
