import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema, parseConfig } from '../../src/config/index.js';

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('shipped configuration files', () => {
  it('default.json holds exactly the schema defaults', () => {
    expect(readJson('config/default.json')).toEqual(JSON.parse(JSON.stringify(configSchema.parse({}))));
  });

  it('production.example.json is a valid production configuration', () => {
    expect(parseConfig(readJson('config/production.example.json')).profile).toBe('production');
  });
});
