import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv, loadConfig, parseConfig, ConfigError } from './load.ts';

describe('configuration', () => {
  it('has safe defaults that start a development server', () => {
    const c = parseConfig({});
    assert.equal(c.mode, 'development');
    assert.equal(c.ttl.authorizationCode, 60);
    assert.equal(c.dpop.requireNonce, false);
  });

  it('maps SEKISHO_* variables (nested with __) and DATABASE_URL', () => {
    assert.deepEqual(configFromEnv({ SEKISHO_PORT: '8080', SEKISHO_TTL__ACCESS_TOKEN: '120', DATABASE_URL: 'postgres://x/y', SEKISHO_MTLS__TRUSTED_PROXIES: '["10.0.0.1"]', HOME: '/root' }), {
      port: 8080, ttl: { accessToken: 120 }, databaseUrl: 'postgres://x/y', mtls: { trustedProxies: ['10.0.0.1'] },
    });
  });

  it('names the key at fault', () => {
    assert.throws(() => parseConfig({ ttl: { authorizationCode: 600 } }), (err: Error) => err instanceof ConfigError && /ttl\.authorizationCode/.test(err.message));
    assert.throws(() => parseConfig({ porrt: 1 }), /porrt|Unrecognized/);
    assert.throws(() => loadConfig({ SEKISHO_PORT: 'eighty' }), /port/);
  });

  it('production refuses an http issuer and a missing key-encryption key', () => {
    assert.throws(() => parseConfig({ mode: 'production', issuer: 'http://localhost' }), (err: Error) =>
      /issuer: must be an https URL/.test(err.message) && /keyEncryptionKey: required/.test(err.message));
    const ok = parseConfig({ mode: 'production', issuer: 'https://as.example.com', keyEncryptionKey: 'A'.repeat(43), mail: { smtp: { host: 'smtp.example.jp' } } });
    assert.equal(ok.mode, 'production');
  });

  it('mail: SMTP settings have safe defaults; production refuses the development mailbox', () => {
    const dev = parseConfig({});
    assert.equal(dev.mail.from, 'Sekisho <no-reply@localhost>');
    assert.equal(dev.mail.smtp, undefined, 'development uses the mailbox');
    const smtp = loadConfig({ SEKISHO_MAIL__SMTP__HOST: 'smtp.example.jp', SEKISHO_MAIL__SMTP__USER: 'sekisho', SEKISHO_MAIL__SMTP__PASSWORD: 'pw-from-env' }).mail.smtp;
    assert.deepEqual(smtp, { host: 'smtp.example.jp', port: 587, secure: false, user: 'sekisho', password: 'pw-from-env', rejectUnauthorized: true });
    assert.throws(() => parseConfig({ mail: { smtp: { host: 'smtp.example.jp', password: 'x' } } }), /mail\.smtp\.password: needs mail\.smtp\.user/);

    const production = { mode: 'production', issuer: 'https://as.example.com', keyEncryptionKey: 'A'.repeat(43) };
    assert.throws(() => parseConfig(production), (err: Error) =>
      err instanceof ConfigError && /^ {2}mail\.smtp: required in production/m.test(err.message) && !/issuer|keyEncryptionKey/.test(err.message));
    assert.throws(() => parseConfig({ ...production, mail: { smtp: { host: 'smtp.example.jp', rejectUnauthorized: false } } }),
      /mail\.smtp\.rejectUnauthorized: must be true in production/);
    assert.ok(parseConfig({ ...production, mail: { from: 'Sekisho <no-reply@example.jp>', smtp: { host: 'smtp.example.jp', port: 465, secure: true } } }));
  });

  it('accepts an http issuer only on loopback', () => {
    assert.throws(() => parseConfig({ issuer: 'http://as.example.com' }), /issuer: http is allowed only for a loopback host/);
    assert.ok(parseConfig({ issuer: 'http://127.0.0.1:4000' }));
  });

  it('refuses a key-encryption key of the wrong size', () => {
    assert.throws(() => parseConfig({ keyEncryptionKey: 'short' }), /keyEncryptionKey/);
  });
});
