import { Pool } from 'undici';

export interface HttpResponse { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/**
 * Keep-alive HTTP/1.1 to one loopback origin. Requests go to 127.0.0.1 and carry the issuer's
 * host (localhost:PORT) in Host, so oidc-provider's URLs (DPoP htu, redirects) match the issuer.
 */
export function createHttp(origin: string, issuer: string) {
  const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
  const host = new URL(issuer).host;

  async function send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<HttpResponse> {
    const res = await pool.request({
      method, path, body,
      headers: { host, ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }), ...headers },
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  }

  return {
    get: (path: string, headers: Record<string, string> = {}) => send('GET', path, headers),
    post: (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => send('POST', path, headers, new URLSearchParams(form).toString()),
    close: () => pool.close(),
  };
}
export type Http = ReturnType<typeof createHttp>;
