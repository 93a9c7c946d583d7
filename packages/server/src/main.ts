#!/usr/bin/env node
/**
 * The sekisho command: start, migrate, clients, users, keys. Run through npm so that the pinned
 * Node 24 is used: `npm start`, or `npm run sekisho -- <command>`.
 */
import { loadConfig, ConfigError } from './config/load.ts';
import { createLogger } from './shared/logger.ts';
import { runCli } from './cli/commands.ts';

const logger = createLogger((process.env.SEKISHO_LOG_LEVEL as 'info' | undefined) ?? 'info');

try {
  const config = loadConfig();
  const code = await runCli(process.argv.slice(2), config, createLogger(config.logLevel));
  if (code !== undefined) process.exitCode = code;
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`sekisho: ${err.message}\n`);
    process.exitCode = 78; // EX_CONFIG
  } else {
    logger.error('fatal', { err });
    process.exitCode = 1;
  }
}
