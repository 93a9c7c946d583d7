/**
 * Outgoing mail against a real SMTP server (smtp-server on loopback) and the development mailbox,
 * on every storage engine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { ENGINES } from '../../test/support/engines.ts';
import type { Storage } from '../storage/db.ts';
import type { SmtpConfig } from '../config/schema.ts';
import { parseConfig } from '../config/load.ts';
import { createLogger } from '../shared/logger.ts';
import { BODY_NOT_KEPT, createMailer, isLoopbackHost, listMailbox, smtpTransportOptions } from './mailer.ts';
import { newDeviceAlert, passkeyAdded, recoveryCode, signupCode, accountRecovered } from './messages.ts';

interface Received { mailFrom: string; rcptTo: string[]; raw: string }

/** A loopback SMTP server without STARTTLS; `rejectRecipients` answers 550 to every RCPT TO. */
async function startSmtp(options: { rejectRecipients?: boolean } = {}) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (!options.rejectRecipients) return callback();
      callback(Object.assign(new Error('5.1.1 no such mailbox'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('latin1'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- a very small MIME reader: enough for what nodemailer writes ---------------------------------

function splitMessage(raw: string): { headers: Map<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end).replace(/\r\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { headers, body: raw.slice(end + 4) };
}

function qpBytes(text: string): Buffer {
  const t = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const hex = t.slice(i + 1, i + 3);
    if (t[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) { bytes.push(parseInt(hex, 16)); i += 2; } else bytes.push(t.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (adjacent ones joined before UTF-8 decoding, whitespace between dropped). */
function decodeHeader(value: string): string {
  const out: string[] = [];
  let pending: Buffer[] = [];
  const flush = () => { if (pending.length) { out.push(Buffer.concat(pending).toString('utf8')); pending = []; } };
  const re = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;
  let last = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const between = value.slice(last, m.index);
    if (!(pending.length && /^\s*$/.test(between))) { flush(); out.push(between); }
    const [, , enc, data = ''] = m;
    pending.push(enc?.toUpperCase() === 'B' ? Buffer.from(data, 'base64') : qpBytes(data.replace(/_/g, ' ')));
    last = re.lastIndex;
  }
  flush();
  out.push(value.slice(last));
  return out.join('');
}

/** The decoded text of the first part of the given type (single part or multipart). */
function partText(raw: string, type: string): string | undefined {
  const { headers, body } = splitMessage(raw);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith('--')) break;
      const found = partText(part.replace(/^\r\n/, ''), type);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (!contentType.toLowerCase().startsWith(type)) return undefined;
  const cte = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes = cte === 'base64' ? Buffer.from(body, 'base64') : cte === 'quoted-printable' ? qpBytes(body) : Buffer.from(body, 'latin1');
  return bytes.toString('utf8').replace(/\r\n/g, '\n').trimEnd();
}

function captureLogs() {
  const lines: string[] = [];
  return { lines, logger: createLogger('debug', {}, (line) => lines.push(line)) };
}

const smtpTo = (port: number): SmtpConfig => ({ host: '127.0.0.1', port, secure: false, rejectUnauthorized: true });

// ---------------------------------------------------------------------------------------------------

describe('SMTP transport options', () => {
  it('requires STARTTLS for a non-loopback host unless TLS is implicit', () => {
    const remote = smtpTransportOptions({ host: 'smtp.example.jp', port: 587, secure: false, rejectUnauthorized: true });
    assert.equal(remote.requireTLS, true);
    assert.equal(remote.secure, false);
    assert.equal(remote.tls?.rejectUnauthorized, true);
    assert.equal(remote.auth, undefined, 'no credentials, no AUTH');

    const implicit = smtpTransportOptions({ host: 'smtp.example.jp', port: 465, secure: true, user: 'u', password: 'p', rejectUnauthorized: true });
    assert.equal(implicit.secure, true);
    assert.equal(implicit.requireTLS, false, 'already TLS from the first byte');
    assert.deepEqual(implicit.auth, { user: 'u', pass: 'p' });

    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
      assert.equal(isLoopbackHost(host), true, host);
      assert.equal(smtpTransportOptions({ host, port: 25, secure: false, rejectUnauthorized: true }).requireTLS, false, host);
    }
    for (const host of ['smtp.example.jp', '10.0.0.1', 'localhost.example.jp', '128.0.0.1']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
    assert.equal(smtpTransportOptions({ host: 'mail.test', port: 587, secure: false, rejectUnauthorized: false }).tls?.rejectUnauthorized, false);
  });

  it('with STARTTLS required, a server that does not offer it gets nothing', async () => {
    const smtp = await startSmtp();
    try {
      // The options built for a remote host, pointed at the loopback server that offers no STARTTLS.
      const options = { ...smtpTransportOptions({ host: 'smtp.example.jp', port: smtp.port, secure: false, rejectUnauthorized: true }), host: '127.0.0.1' };
      const transporter = nodemailer.createTransport(options);
      await assert.rejects(transporter.sendMail({ from: 'a@example.jp', to: 'b@example.jp', subject: 's', text: 'secret 123456' }),
        (err: Error & { code?: string }) => err.code === 'ETLS' && /STARTTLS/.test(err.message));
      assert.equal(smtp.received.length, 0);
    } finally { await smtp.close(); }
  });
});

for (const engine of ENGINES) {
  describe(`mailer on ${engine.name}`, { skip: engine.skip }, () => {
    let storage: Storage & { dispose(): Promise<void> };
    before(async () => { storage = await engine.open(); });
    after(() => storage?.dispose());

    const outbox = (recipient: string) => storage.db.selectFrom('mail_outbox').selectAll().where('recipient', '=', recipient).orderBy('id', 'desc').execute();

    it('delivers a bilingual mail over SMTP and keeps no body', async () => {
      const smtp = await startSmtp();
      const { lines, logger } = captureLogs();
      try {
        const config = parseConfig({ mail: { from: 'Sekisho <no-reply@sekisho.example.jp>', smtp: smtpTo(smtp.port) } });
        const mailer = createMailer({ config, db: storage.db, logger });
        assert.equal(mailer.transport, 'smtp');
        const content = signupCode({ code: '482913', minutes: 10 });
        await mailer.send({ to: 'hanako@example.jp', ...content, html: '<p>確認コード: 482913</p>' });

        assert.equal(smtp.received.length, 1);
        const [mail] = smtp.received;
        assert.ok(mail);
        assert.equal(mail.mailFrom, 'no-reply@sekisho.example.jp');
        assert.deepEqual(mail.rcptTo, ['hanako@example.jp']);
        const { headers } = splitMessage(mail.raw);
        assert.equal(headers.get('to'), 'hanako@example.jp');
        assert.match(headers.get('subject') ?? '', /=\?UTF-8\?[BQ]\?/i, 'the Japanese subject is MIME-encoded');
        assert.equal(decodeHeader(headers.get('subject') ?? ''), '【Sekisho】メールアドレスの確認コード / Your verification code');
        assert.equal(decodeHeader(headers.get('from') ?? ''), 'Sekisho <no-reply@sekisho.example.jp>');
        const text = partText(mail.raw, 'text/plain');
        assert.equal(text, content.text.trimEnd());
        assert.ok(text && text.indexOf('確認コード: 482913') < text.indexOf('Verification code: 482913'), 'Japanese first, then English');
        assert.equal(partText(mail.raw, 'text/html'), '<p>確認コード: 482913</p>');

        const [row] = await outbox('hanako@example.jp');
        assert.ok(row);
        assert.equal(row.transport, 'smtp');
        assert.ok(row.sent_at instanceof Date);
        assert.equal(row.error, null);
        assert.equal(row.body, BODY_NOT_KEPT);
        assert.equal(row.subject, content.subject);
        assert.ok(lines.some((l) => /"msg":"mail sent"/.test(l)));
        assert.ok(lines.every((l) => !l.includes('482913')), 'the code never reaches the log');
      } finally { await smtp.close(); }
    });

    it('a refused recipient: send rejects, the row says why, the log has no body', async () => {
      const smtp = await startSmtp({ rejectRecipients: true });
      const { lines, logger } = captureLogs();
      try {
        const mailer = createMailer({ config: { mail: { from: 'no-reply@sekisho.example.jp', smtp: smtpTo(smtp.port) } }, db: storage.db, logger });
        await assert.rejects(mailer.send({ to: 'nobody@example.jp', ...recoveryCode({ code: '771204', minutes: 15 }) }), /550|rejected/);
        assert.equal(smtp.received.length, 0);
        const [row] = await outbox('nobody@example.jp');
        assert.ok(row);
        assert.equal(row.transport, 'smtp');
        assert.equal(row.sent_at, null);
        assert.match(row.error ?? '', /550/);
        assert.equal(row.body, BODY_NOT_KEPT);
        const failure = lines.find((l) => /"msg":"mail delivery failed"/.test(l));
        assert.ok(failure);
        assert.equal(JSON.parse(failure).level, 'error');
        assert.ok(lines.every((l) => !l.includes('771204')));
      } finally { await smtp.close(); }
    });

    it('refuses a recipient that is not one bare address', async () => {
      const mailer = createMailer({ config: { mail: { from: 'x@example.jp' } }, db: storage.db, logger: captureLogs().logger });
      for (const to of ['a@example.jp, b@example.jp', 'Hanako <a@example.jp>', 'a@example.jp\r\nBcc: c@example.jp', 'not-an-address']) {
        await assert.rejects(mailer.send({ to, subject: 's', text: 't' }), TypeError, to);
      }
      await assert.rejects(mailer.send({ to: 'a@example.jp', subject: 'x\r\nBcc: c@example.jp', text: 't' }), TypeError);
    });

    it('without SMTP, mail waits in the development mailbox (full text), newest first', async () => {
      const { lines, logger } = captureLogs();
      const mailer = createMailer({ config: parseConfig({}), db: storage.db, logger });
      assert.equal(mailer.transport, 'mailbox');
      const when = new Date('2025-04-01T00:30:00Z');
      const first = signupCode({ code: '100001', minutes: 10 });
      const second = newDeviceAlert({ when, ip: '203.0.113.7', device: 'Firefox on Windows', method: 'passkey' });
      const third = passkeyAdded({ name: 'YubiKey', when });
      await mailer.send({ to: 'taro@example.jp', ...first });
      await mailer.send({ to: 'jiro@example.jp', ...accountRecovered({ when }) });
      await mailer.send({ to: 'taro@example.jp', ...second });
      await mailer.send({ to: 'Taro@Example.jp', ...third });

      const taro = await listMailbox(storage.db, { to: 'taro@example.jp', limit: 10 });
      assert.deepEqual(taro.map((m) => m.subject), [third.subject, second.subject, first.subject]);
      assert.equal(taro[2]?.text, first.text, 'the mailbox keeps the whole text');
      assert.ok(taro.every((m) => m.createdAt instanceof Date && typeof m.id === 'string'));
      assert.equal((await listMailbox(storage.db, { limit: 2 })).length, 2);
      const all = await listMailbox(storage.db, { limit: 100 });
      assert.equal(all[0]?.subject, third.subject);
      assert.ok(all.every((m) => m.text !== BODY_NOT_KEPT), 'SMTP records are not in the mailbox');
      assert.deepEqual((await listMailbox(storage.db, { to: 'jiro@example.jp', limit: 10 })).map((m) => m.to), ['jiro@example.jp']);

      const waiting = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /development mailbox/.test(String(l.msg)));
      assert.equal(waiting.length, 4);
      assert.deepEqual(Object.keys(waiting[0] ?? {}).sort(), ['level', 'msg', 'subject', 'time', 'to']);
      assert.equal(waiting[0]?.level, 'info');
      assert.ok(lines.every((l) => !l.includes('100001')), 'the body is not logged');
    });

    it('production without SMTP is refused by the mailer too', () => {
      assert.throws(() => createMailer({ config: { mode: 'production', mail: { from: 'x@example.jp' } }, db: storage.db, logger: captureLogs().logger }), /mail\.smtp/);
    });
  });
}

describe('messages', () => {
  const when = new Date('2025-01-02T06:04:05Z');

  it('are Japanese first, then English, polite, with the service name and no code in the subject', () => {
    const all = [
      signupCode({ code: '123456', minutes: 10 }),
      recoveryCode({ code: '654321', minutes: 15 }),
      newDeviceAlert({ when, ip: '198.51.100.2', device: 'Safari on iPhone', method: 'password+totp' }),
      accountRecovered({ when }),
      passkeyAdded({ name: 'MacBook', when }),
    ];
    for (const m of all) {
      assert.match(m.subject, /^【Sekisho】[^/]*[\u3040-\u30ff\u4e00-\u9fff][^/]* \/ [A-Z]/);
      assert.doesNotMatch(m.subject, /\d{6}/);
      assert.ok(/[。]/.test(m.text) && /です|ます/.test(m.text));
      const firstEnglish = m.text.search(/\n[A-Z][a-z]+ /);
      assert.ok(firstEnglish > m.text.search(/[\u3040-\u30ff]/), 'Japanese first');
      assert.doesNotMatch(m.text, /https?:\/\//, 'no links');
    }
    assert.match(all[0]!.text, /確認コード: 123456\n有効期限: 10分/);
    assert.match(all[0]!.text, /Verification code: 123456\nValid for: 10 minutes/);
    assert.match(all[1]!.text, /654321/);
    assert.match(all[2]!.text, /日時: 2025年1月2日 15:04（日本時間）/);
    assert.match(all[2]!.text, /When: 2025-01-02 06:04 UTC/);
    assert.match(all[2]!.text, /方法: パスワードと認証アプリ/);
    assert.match(all[2]!.text, /パスキーを削除/);
    assert.match(all[2]!.text, /sign out your other sessions/);
    assert.match(all[4]!.text, /パスキーの名前: MacBook/);
  });

  it('flatten and defang what a person or a request supplied', () => {
    const m = newDeviceAlert({ when, ip: 'not an ip', device: 'Chrome\r\nVisit https://evil.example.com\u202e', method: 'passkey' });
    assert.match(m.text, /端末: Chrome Visit https\[:\]\/\/evil\[\.\]example\[\.\]com\n/);
    assert.doesNotMatch(m.text, /\u202e|https:\/\//);
    const p = passkeyAdded({ name: 'www.phish.example ' + 'x'.repeat(200), when });
    assert.match(p.text, /パスキーの名前: www\[\.\]phish\[\.\]example x+…\n/);
  });
});
