import { isIPv4 } from 'node:net';
import nodemailer, { type SMTPTransportOptions } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { Config, SmtpConfig } from '../config/schema.ts';
import type { Database } from '../storage/schema.ts';
import type { Logger } from '../shared/logger.ts';

/**
 * Outgoing mail. With `mail.smtp` each message is delivered by SMTP and mail_outbox records only
 * that it was sent (or why not): the body is not kept, because mails carry one-time codes that
 * must not sit in the database in clear. Without SMTP (development only; production refuses it)
 * the whole message is stored in mail_outbox — the development mailbox, read with
 * `sekisho mail list`.
 */
export interface MailMessage {
  /** One bare address (`hanako@example.jp`). */
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  /** Resolves once delivered (SMTP) or stored (mailbox); rejects when SMTP delivery fails. */
  send(message: MailMessage): Promise<void>;
  transport: 'smtp' | 'mailbox';
}

export interface MailboxEntry {
  id: string;
  createdAt: Date;
  to: string;
  subject: string;
  text: string;
}

/** What mail_outbox keeps instead of the body of a mail delivered by SMTP. */
export const BODY_NOT_KEPT = '(not kept)';

const SINGLE_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/u;
const LINE_BREAK = /[\r\n]/;

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || (isIPv4(h) && h.startsWith('127.'));
}

/**
 * The nodemailer SMTP options for `mail.smtp`: implicit TLS when `secure`, otherwise STARTTLS is
 * required (a server that does not offer it, or a failed upgrade, fails the delivery) unless the
 * host is loopback. Certificates are verified unless `rejectUnauthorized` is false.
 */
export function smtpTransportOptions(smtp: SmtpConfig): SMTPTransportOptions {
  return {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: !smtp.secure && !isLoopbackHost(smtp.host),
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    tls: { rejectUnauthorized: smtp.rejectUnauthorized, minVersion: 'TLSv1.2' },
    // A slow or silent server must not hold a sign-up request for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    logger: false,
  };
}

export interface MailerOptions {
  config: Pick<Config, 'mail'> & { mode?: Config['mode'] };
  db: Kysely<Database>;
  logger: Logger;
}

export function createMailer({ config, db, logger }: MailerOptions): Mailer {
  const smtp = config.mail.smtp;
  if (!smtp) {
    if (config.mode === 'production') throw new Error('mail.smtp: required in production');
    return {
      transport: 'mailbox',
      async send(message) {
        check(message);
        await db.insertInto('mail_outbox').values({
          recipient: message.to, subject: message.subject, body: message.text, transport: 'mailbox',
        }).execute();
        logger.info('mail waiting in the development mailbox (read it with `sekisho mail list`)', { to: message.to, subject: message.subject });
      },
    };
  }

  const transporter = nodemailer.createTransport(smtpTransportOptions(smtp), { from: config.mail.from });
  const record = async (message: MailMessage, outcome: { sent_at: Date } | { error: string }) => {
    try {
      await db.insertInto('mail_outbox').values({
        recipient: message.to, subject: message.subject, body: BODY_NOT_KEPT, transport: 'smtp', ...outcome,
      }).execute();
    } catch (err) {
      logger.error('mail_outbox write failed', { to: message.to, subject: message.subject, err });
    }
  };
  return {
    transport: 'smtp',
    async send(message) {
      check(message);
      try {
        await transporter.sendMail({
          to: message.to, subject: message.subject, text: message.text,
          ...(message.html !== undefined ? { html: message.html } : {}),
        });
      } catch (err) {
        const e = err as Partial<{ message: string; code: string; responseCode: number; command: string }>;
        const error = String(e.message ?? err).slice(0, 1000);
        // Never the body: it may carry a one-time code.
        logger.error('mail delivery failed', {
          to: message.to, subject: message.subject, error, errorCode: e.code, responseCode: e.responseCode, smtpCommand: e.command,
        });
        await record(message, { error });
        throw err;
      }
      await record(message, { sent_at: new Date() });
      logger.info('mail sent', { to: message.to, subject: message.subject });
    },
  };
}

function check(message: MailMessage): void {
  if (!SINGLE_ADDRESS.test(message.to)) throw new TypeError('mail: `to` must be one bare e-mail address');
  if (LINE_BREAK.test(message.subject)) throw new TypeError('mail: the subject must be one line');
}

/** The development mailbox (transport 'mailbox'), newest first, optionally for one recipient. */
export async function listMailbox(db: Kysely<Database>, options: { to?: string | undefined; limit: number }): Promise<MailboxEntry[]> {
  let q = db.selectFrom('mail_outbox').select(['id', 'created_at', 'recipient', 'subject', 'body'])
    .where('transport', '=', 'mailbox').orderBy('id', 'desc').limit(options.limit);
  const to = options.to?.toLowerCase();
  if (to) q = q.where((eb) => eb(eb.fn('lower', ['recipient']), '=', to));
  const rows = await q.execute();
  return rows.map((r) => ({ id: String(r.id), createdAt: new Date(r.created_at), to: r.recipient, subject: r.subject, text: r.body }));
}
