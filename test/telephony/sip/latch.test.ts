import { describe, expect, it } from 'vitest';
import { Latch } from '../../../src/telephony/sip/relay/latch.js';

const SDP = { address: '192.0.2.10', port: 4000 };

describe('port latching', () => {
  it('admits anyone until the first packet, then only that source', () => {
    const latch = new Latch(SDP);
    expect(latch.admits('198.51.100.7', 5555)).toBe(true);
    latch.learn('198.51.100.7', 5555);
    expect(latch.endpoint).toMatchObject({ address: '198.51.100.7', port: 5555 });
    expect(latch.admits('198.51.100.7', 5556)).toBe(false);
    expect(latch.admits('198.51.100.8', 5555)).toBe(false);
  });

  it('lets the SDP’s own address and port take over from a first source that did not match it, once', () => {
    const latch = new Latch(SDP);
    latch.learn('198.51.100.7', 5555);
    expect(latch.admits(SDP.address, SDP.port)).toBe(true);
    latch.learn(SDP.address, SDP.port);
    expect(latch.relatches).toBe(1);
    expect(latch.admits('198.51.100.7', 5555)).toBe(false);
  });

  it('a new SDP address unlatches; the same one (hold, unhold) keeps the latch', () => {
    const latch = new Latch(SDP);
    latch.learn('198.51.100.7', 5555);
    latch.expect({ ...SDP });
    expect(latch.endpoint).not.toBeNull();
    latch.expect({ address: '192.0.2.11', port: 4000 });
    expect(latch.endpoint).toBeNull();
    expect(latch.admits('203.0.113.1', 1)).toBe(true);
  });
});
