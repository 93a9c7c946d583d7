import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The headers of every page (and of the redirects a page's form is answered with) of the example
 * apps. The pages load nothing but /style.css and run no script. `formAction`: the origins besides
 * the app's own that a form may lead to. CSP's form-action applies to where a form submission is
 * redirected too, so an app whose form is answered with a redirect to Sekisho names Sekisho's
 * origin here (and nothing else).
 */
export function pageHeaders(formAction: readonly string[] = []): Record<string, string> {
  return {
    'Content-Security-Policy': `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${["'self'", ...formAction].join(' ')}; frame-ancestors 'none'; base-uri 'none'`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // Not no-referrer: under it browsers send `Origin: null` with form posts, and the cross-site
    // check (isCrossSite) would refuse the app's own forms. Other sites get no referrer.
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
}

/** An HTML page with `headers` (pageHeaders(), usually). */
export function sendHtml(res: ServerResponse, status: number, page: string, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page) });
  res.end(page);
}

/** 303 See Other: after a form post the browser GETs the new location. */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = { 'Cache-Control': 'no-store' }): void {
  res.writeHead(303, { ...headers, Location: location, 'Content-Length': 0 });
  res.end();
}

/** sendHtml and redirect with one app's pageHeaders(formAction). */
export function createPageIo(formAction: readonly string[] = []) {
  const headers = pageHeaders(formAction);
  return {
    sendHtml: (res: ServerResponse, status: number, page: string, extra: Record<string, string> = {}): void => sendHtml(res, status, page, { ...headers, ...extra }),
    redirect: (res: ServerResponse, location: string): void => redirect(res, location, headers),
  };
}
export type PageIo = ReturnType<typeof createPageIo>;

/** A non-HTML answer (a stylesheet, a plain-text refusal). */
export function sendText(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'X-Content-Type-Options': 'nosniff', ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The body's bytes, or undefined when it is (or says it is) larger than `limit` bytes; the rest is not read. */
export async function readBytes(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The body as text, or undefined when it is larger than `limit` bytes (the rest is not read). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return (await readBytes(req, limit))?.toString('utf8');
}

/** A form post's fields, or undefined for another content type or a body over `limit` bytes. */
export async function readForm(req: IncomingMessage, limit = 8 * 1024): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  const body = await readBody(req, limit);
  return body === undefined ? undefined : new URLSearchParams(body);
}

/** A field sent exactly once, or undefined. */
export function one(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

/**
 * Whether a browser says the request comes from another site: an Origin other than `origin`, or
 * Sec-Fetch-Site: cross-site. Form posts are taken only from the app's own pages (this, and the
 * CSRF token).
 */
export function isCrossSite(req: IncomingMessage, origin: string): boolean {
  const from = req.headers.origin;
  return (from !== undefined && from !== origin) || req.headers['sec-fetch-site'] === 'cross-site';
}
