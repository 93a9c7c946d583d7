/**
 * A minimal browser for an example app's pages: one cookie jar, no redirects followed (the tests look
 * at them), forms posted urlencoded, the CSRF token read from the last page.
 */
export function createBrowser(origin: string) {
  const jar = new Map<string, string>();
  let lastPage = '';

  function remember(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /Max-Age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  }
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

  return {
    jar,
    get lastPage() { return lastPage; },
    async get(path: string): Promise<Response & { text_: string }> {
      const response = await fetch(`${origin}${path}`, { redirect: 'manual', headers: jar.size ? { cookie: cookie() } : {} });
      remember(response);
      lastPage = await response.text();
      return Object.assign(response, { text_: lastPage });
    },
    async post(path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<Response & { text_: string }> {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
      const response = await fetch(`${origin}${path}`, {
        method: 'POST', redirect: 'manual', body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(jar.size ? { cookie: cookie() } : {}), ...headers },
      });
      remember(response);
      lastPage = await response.text();
      return Object.assign(response, { text_: lastPage });
    },
    /** The CSRF token in the last page's forms. */
    csrf(): string {
      const m = /name="csrf" value="([^"]+)"/.exec(lastPage);
      if (!m) throw new Error('no CSRF token on the page');
      return m[1]!;
    },
  };
}
/** What {@link createBrowser} returns. */
export type Browser = ReturnType<typeof createBrowser>;

/** Waits (briefly, checking every 10 ms) until `check` is true; fails after `ms`. */
export async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
