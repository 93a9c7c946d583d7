import { securityChange } from '../../mail/messages.ts';
import { notify, render, seeOther, type AccountRequest } from './context.ts';
import { activityPage } from './activity-pages.ts';

/** How much sign-in history the page shows; older entries stay in the database until purged. */
const HISTORY_SHOWN = 30;

export async function showActivity(r: AccountRequest) {
  render(r.ctx, activityPage(r.lang, {
    csrf: r.csrf, done: typeof r.ctx.query.done === 'string' ? r.ctx.query.done : undefined, currentUid: r.session.uid,
    sessions: await r.deps.sessions.list(r.account.id), history: await r.deps.history.list(r.account.id, HISTORY_SHOWN),
  }));
}

/** Sign out one device: another one's session ends at once; this one's means signing out. */
export async function endSession(r: AccountRequest) {
  const uid = (r.form.id ?? '').slice(0, 100);
  if (uid === r.session.uid) return signOut(r);
  const ended = uid ? await r.deps.sessions.end(r.account.id, uid) : false;
  if (ended) r.deps.audit.recordInBackground({ type: 'session.ended', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { by: 'account page' } });
  seeOther(r.ctx, '/account/activity', ended ? 'session-ended' : undefined);
}

/** Every session, this one included: for a person who fears someone else is signed in. */
export async function endAllSessions(r: AccountRequest) {
  const count = await r.deps.sessions.endAll(r.account.id);
  await r.deps.browserSessions.signOut(r.ctx);
  r.deps.audit.recordInBackground({ type: 'session.ended_all', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { count } });
  notify(r, r.account.email, securityChange({ change: 'signed-out-everywhere', when: new Date() }));
  seeOther(r.ctx, '/account/sign-in', 'signed-out-everywhere');
}

export async function signOut(r: AccountRequest) {
  await r.deps.sessions.end(r.account.id, r.session.uid);
  await r.deps.browserSessions.signOut(r.ctx);
  r.deps.audit.recordInBackground({ type: 'session.ended', outcome: 'success', subject: r.account.id, ip: r.ctx.ip, details: { by: 'sign-out' } });
  seeOther(r.ctx, '/account/sign-in', 'signed-out');
}

