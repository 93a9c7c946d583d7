import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/logger.ts';
import { createKek, generateKekValue, type Kek } from './kek.ts';

/**
 * The key-encryption key from the configuration. In development only, when none is configured, one
 * is generated once into dataDir/kek.key (mode 0600) and a warning says so; production refuses to
 * start without a configured key (config/load.ts).
 */
export function resolveKek(config: Config, logger: Logger): Kek {
  if (config.keyEncryptionKey) return createKek(config.keyEncryptionKey);
  if (config.mode === 'production') throw new Error('keyEncryptionKey: required in production');
  const file = join(config.dataDir, 'kek.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, generateKekValue() + '\n', { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  logger.warn('development key-encryption key in use; set keyEncryptionKey before production', { file });
  return createKek(readFileSync(file, 'utf8').trim());
}
