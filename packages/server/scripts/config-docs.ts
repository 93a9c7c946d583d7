/** Writes docs/configuration.md from the configuration schema. Run: npm run docs:config */
import { writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../src/config/docs.ts';

const target = new URL('../../../docs/configuration.md', import.meta.url);
writeFileSync(target, renderConfigDocs());
process.stdout.write(`wrote ${target.pathname}\n`);
