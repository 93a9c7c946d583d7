import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { ACR } from '../../packages/server/src/protocol/claims-catalogue.ts';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm))?$/;

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

export interface BareAccount { id: string; password: string }

/**
 * The smallest sign-in and consent a bare oidc-provider needs for the benchmark. It serves forms
 * with the same contract as Sekisho's pages (so the same scripted browser signs in on both) and
 * finishes interactions with the same results: login → acr aal1, amr pwd, remember; consent →
 * a Grant holding exactly the missing OIDC scopes, claims and resource scopes. Only used while
 * setting up sessions; the measured flows never reach it.
 */
export function bareInteractions(provider: Provider, accounts: Map<string, BareAccount>) {
  return async function handle(ctx: Context, next: Next) {
    const match = ROUTE.exec(ctx.path);
    if (!match) return next();
    const [, uid, action] = match as unknown as [string, string, string | undefined];
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');

    if (!action) {
      const step = details.prompt.name === 'login' ? 'login' : 'confirm';
      ctx.type = 'html';
      ctx.body = `<!doctype html><form method="post" action="/interaction/${uid}/${step}"><input type="hidden" name="csrf" value="bare">`
        + (step === 'login' ? '<input name="username"><input name="password" type="password">' : '')
        + '<button>continue</button></form>';
      return;
    }
    if (ctx.method !== 'POST') ctx.throw(405);
    const form = await readUrlencoded(ctx);

    if (action === 'login') {
      const account = accounts.get(form.get('username') ?? '');
      if (!account || account.password !== form.get('password')) ctx.throw(401, 'wrong username or password');
      await finish(ctx, { login: { accountId: account.id, acr: ACR.aal1, amr: ['pwd'], remember: true } }, false);
      return;
    }
    if (details.prompt.name !== 'consent' || !details.session) ctx.throw(400, 'not at consent');
    await finish(ctx, { consent: { grantId: await recordConsent(provider, details) } }, true);
  };

  async function finish(ctx: Context, result: Parameters<Provider['interactionFinished']>[2], merge: boolean) {
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge });
    ctx.respond = false;
  }
}

/** Same Grant semantics as Sekisho's consent page: add what the prompt reported missing. */
async function recordConsent(provider: Provider, details: Details): Promise<string> {
  const { session, params, prompt } = details;
  const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined)
    ?? new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
  const d = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  return grant.save();
}

async function readUrlencoded(ctx: Context): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
