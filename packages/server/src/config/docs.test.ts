import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderConfigDocs } from './docs.ts';
import { configSchema } from './schema.ts';

it('docs/configuration.md is generated from the schema and up to date (npm run docs:config)', () => {
  const onDisk = readFileSync(new URL('../../../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderConfigDocs());
  for (const key of Object.keys(configSchema.shape)) assert.ok(onDisk.includes(`\`${key}\``), `${key} documented`);
});
