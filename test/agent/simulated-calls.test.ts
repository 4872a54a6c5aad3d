import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { mintDevToken } from '../../src/agent/dev-issuer.js';
import type { CallerSimulator } from '../../src/agent/simulated-calls.js';
import { silentLogger } from '../../src/audit/logger.js';
import { parseConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { completeProductionConfig } from '../helpers/production.js';

const PATH = '/v1/dev/simulated-calls';

/** A simulator that dials nothing: these tests are about who may reach the route, not the call (the e2e test plays real ones). */
function countingSimulator(): CallerSimulator & { dialled: number; busy: boolean } {
  return {
    agentId: 'demo-agent',
    busy: false,
    dialled: 0,
    async dial() {
      this.dialled++;
      return { callSid: 'CA00000000000000000000000000000001' };
    },
  };
}


describe('POST /v1/dev/simulated-calls', () => {
  const simulator = countingSimulator();
  let dev: TestServer;
  let plain: TestServer;
  let production: RunningServer;

  beforeAll(async () => {
    [dev, plain, production] = await Promise.all([
      startTestServer({}, { callerSimulator: simulator }),
      startTestServer(),
      startServer(parseConfig({ ...completeProductionConfig(), host: '127.0.0.1', port: 0 }), {
        logger: silentLogger(),
        callerSimulator: simulator,
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([dev?.close(), plain?.close(), production?.close()]);
  });

  it('a development service with a simulator offers it to a signed-in agent, one call at a time', async () => {
    expect((await request(dev.url).get('/desktop/settings.json')).body.simulator).toEqual({ agentId: 'demo-agent' });
    await request(dev.url).post(PATH).expect(401);
    const auditor = await mintDevToken(dev.context.config, { sub: 'ann', role: 'auditor' });
    await request(dev.url).post(PATH).set('authorization', `Bearer ${auditor}`).expect(403);
    const agent = await mintDevToken(dev.context.config, { sub: 'demo-agent', role: 'agent' });
    const started = await request(dev.url).post(PATH).set('authorization', `Bearer ${agent}`).expect(202);
    expect(started.body).toEqual({ callSid: 'CA00000000000000000000000000000001', agentId: 'demo-agent' });
    simulator.busy = true;
    const refused = await request(dev.url).post(PATH).set('authorization', `Bearer ${agent}`).expect(409);
    expect(refused.body.error.code).toBe('simulation_running');
    simulator.busy = false;
    expect(simulator.dialled).toBe(1);
  });

  it('a development service without a simulator has no such route', async () => {
    const agent = await mintDevToken(plain.context.config, { sub: 'demo-agent', role: 'agent' });
    await request(plain.url).post(PATH).set('authorization', `Bearer ${agent}`).expect(404);
    expect((await request(plain.url).get('/desktop/settings.json')).body).not.toHaveProperty('simulator');
  });

  it('a production service never has the route, even when handed a simulator', async () => {
    expect(production.context.config.profile).toBe('production');
    const res = await request(production.url).post(PATH).set('authorization', 'Bearer x.y.z').expect(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await request(production.url).get('/desktop/settings.json')).body).toEqual({ devTokens: false, embedOrigins: [] });
    expect(simulator.dialled).toBe(1);
  });
});
