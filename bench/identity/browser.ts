/**
 * What a browser does on Sekisho's sign-in and sign-up pages, over the benchmark's keep-alive HTTP
 * (bench/load/http.ts): a cookie jar that honours Path, reading the CSRF token and the WebAuthn
 * options out of the page, posting forms with the site's Origin.
 */
import type { Http, HttpResponse } from '../load/http.ts';

/** A Chrome-like User-Agent, so sign-in history and device descriptions look like a person's. */
export const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

// The side-by-side benchmark's own checks, under the names the page helpers use.
export { UnexpectedResponse as UnexpectedPage, expect as expectStatus } from '../load/scenarios.ts';
import { UnexpectedResponse as UnexpectedPage } from '../load/scenarios.ts';

export function locationOf(res: HttpResponse): string {
  const l = res.headers.location;
  const location = Array.isArray(l) ? l[0] : l;
  if (!location) throw new UnexpectedPage(`HTTP ${res.status} without Location`);
  return location;
}

/** Cookies by name, each with the Path it was set for (RFC 6265 §5.1.4 path-match). */
export class CookieJar {
  readonly cookies = new Map<string, { value: string; path: string }>();

  constructor(from?: CookieJar, only?: (name: string) => boolean) {
    for (const [name, c] of from?.cookies ?? []) if (!only || only(name)) this.cookies.set(name, { ...c });
  }

  header(path: string): string {
    const p = path.split('?')[0]!;
    return [...this.cookies].filter(([, c]) => p === c.path || p.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`).join('; ');
  }

  update(res: HttpResponse, requestPath: string): void {
    const raw = res.headers['set-cookie'];
    for (const line of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const pathAttr = attributes.map((a) => a.trim()).find((a) => /^path=/i.test(a))?.slice(5);
      const dir = requestPath.split('?')[0]!.replace(/\/[^/]*$/, '') || '/';
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, { value, path: pathAttr || dir });
    }
  }
}

/** One browser tab: requests with this jar's cookies, the site's Origin on every POST. */
export function browse(http: Http, issuer: string, jar: CookieJar) {
  const origin = new URL(issuer).origin;
  const headers = (path: string, extra: Record<string, string> = {}) => {
    const cookie = jar.header(path);
    return { 'user-agent': BROWSER_UA, 'accept-language': 'ja,en;q=0.8', ...(cookie ? { cookie } : {}), ...extra };
  };
  return {
    jar,
    async get(path: string): Promise<HttpResponse> {
      const res = await http.get(path, headers(path));
      jar.update(res, path);
      return res;
    },
    async post(path: string, form: Record<string, string>): Promise<HttpResponse> {
      const res = await http.post(path, form, headers(path, { origin }));
      jar.update(res, path);
      return res;
    },
  };
}

export function csrfOf(step: string, body: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(body);
  if (!m) throw new UnexpectedPage(`${step}: no csrf token on the page`);
  return m[1]!;
}

/** The options the page hands to navigator.credentials (`<script type="application/json" id="webauthn-options">`). */
export function webauthnOptionsOf<T>(step: string, body: string): T {
  const m = /<script type="application\/json" id="webauthn-options">([\s\S]*?)<\/script>/.exec(body);
  if (!m) throw new UnexpectedPage(`${step}: no WebAuthn options on the page`);
  return JSON.parse(m[1]!) as T;
}
