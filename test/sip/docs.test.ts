import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KAMAILIO_CFG } from './harness/kamailio.js';

describe('docs/sip.md', () => {
  it('shows exactly the kamailio.cfg that the SIP tests run', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/sip.md'), 'utf8');
    const block = /```kamailio\n(#!KAMAILIO[\s\S]*?)```/.exec(doc);
    expect(block, 'docs/sip.md has no ```kamailio block starting with #!KAMAILIO').not.toBeNull();
    expect(block![1]).toBe(readFileSync(KAMAILIO_CFG, 'utf8'));
  });
});
