import type { Dispatcher } from 'undici';
import { consentForm, type ConsentAnswers } from './consent-form.ts';

export interface AuthorizeOptions {
  username?: string;
  password?: string;
  /** What the person does on the consent page (default allow). */
  consent?: 'allow' | 'deny';
  /** What the person chooses on the consent page when allowing (default: everything, ongoing, longest). */
  answers?: ConsentAnswers;
  /** Stop at the first page and return it instead of signing in. */
  stopAtFirstPage?: boolean;
}

export interface PageResult { status: number; url: string; body: string; headers: Headers }

/**
 * A scripted browser for protocol tests: keeps cookies, follows redirects by hand, fills the
 * sign-in and consent forms exactly as a person would submit them. Browser tests with real
 * Chromium live in the identity issue; this drives the same HTML forms over HTTP.
 */
export function createUserAgent(dispatcher: Dispatcher, issuer: string) {
  const jar = new Map<string, string>();
  const issuerOrigin = new URL(issuer).origin;

  async function request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (new URL(url).origin === issuerOrigin && jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual', dispatcher } as RequestInit);
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  function csrfOf(body: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(body);
    if (!m) throw new Error('no csrf token on page');
    return m[1]!;
  }

  async function post(url: string, form: Record<string, string> | Array<[string, string]>, extraHeaders: Record<string, string> = {}) {
    return request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: issuerOrigin, ...extraHeaders }, body: new URLSearchParams(form).toString() });
  }

  /** Follows redirects from `url`; returns the first non-issuer redirect target, or the page it stops on. */
  async function follow(url: string, init?: RequestInit): Promise<{ redirect?: string; page?: PageResult }> {
    let res = await request(url, init);
    let current = url;
    for (let hops = 0; hops < 20; hops++) {
      if (res.status >= 300 && res.status < 400) {
        const location = new URL(res.headers.get('location')!, current).toString();
        if (new URL(location).origin !== issuerOrigin) return { redirect: location };
        current = location;
        res = await request(location);
        continue;
      }
      return { page: { status: res.status, url: current, body: await res.text(), headers: res.headers } };
    }
    throw new Error('too many redirects');
  }

  return {
    cookies: jar,
    request,
    follow,
    post,
    /** Runs an authorization request through sign-in and consent; returns the callback URL. */
    async authorize(authorizationUrl: string, options: AuthorizeOptions = {}): Promise<{ callback?: string; page?: PageResult }> {
      let step = await follow(authorizationUrl);
      for (let pages = 0; pages < 5 && step.page; pages++) {
        const { page } = step;
        if (options.stopAtFirstPage || page.status !== 200) return step;
        const uid = /\/interaction\/([^/?"]+)/.exec(page.url)?.[1];
        if (!uid) return step;
        const csrf = csrfOf(page.body);
        const base = `${issuerOrigin}/interaction/${uid}`;
        let res: Response;
        if (page.body.includes(`action="/interaction/${uid}/login"`)) {
          res = await post(`${base}/login`, { csrf, username: options.username ?? '', password: options.password ?? '' });
        } else if (page.body.includes(`action="/interaction/${uid}/confirm"`)) {
          res = options.consent === 'deny' ? await post(`${base}/abort`, { csrf }) : await post(`${base}/confirm`, consentForm(page.body, options.answers));
        } else return step;
        if (res.status >= 300 && res.status < 400) {
          step = await follow(new URL(res.headers.get('location')!, base).toString());
        } else {
          return { page: { status: res.status, url: base, body: await res.text(), headers: res.headers } };
        }
      }
      return { callback: step.redirect, ...(step.page ? { page: step.page } : {}) };
    },
  };
}
export type UserAgent = ReturnType<typeof createUserAgent>;
