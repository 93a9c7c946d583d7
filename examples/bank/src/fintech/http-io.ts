import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Answers of the fintech's pages. The pages load nothing but /style.css and run no script. A form
 * may lead to Sekisho: "Connect" and "Send money" are answered with a redirect to its
 * authorization endpoint, and CSP's form-action applies to where a form submission is redirected
 * too, so Sekisho's origin is allowed there (and nothing else).
 */
export function createHttpIo(options: { authorizationServerOrigin: string }) {
  const pageHeaders = {
    'Content-Security-Policy': `default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ${options.authorizationServerOrigin}; frame-ancestors 'none'; base-uri 'none'`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    // Not no-referrer: under it browsers send `Origin: null` with form posts, and the cross-site
    // check would refuse the app's own forms. Other sites (Sekisho included) get no referrer.
    'Referrer-Policy': 'same-origin',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
  };

  return {
    sendHtml(res: ServerResponse, status: number, page: string, headers: Record<string, string> = {}): void {
      res.writeHead(status, { ...pageHeaders, ...headers, 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page) });
      res.end(page);
    },
    /** 303 See Other: after a form post the browser GETs the new location. */
    redirect(res: ServerResponse, location: string): void {
      res.writeHead(303, { ...pageHeaders, Location: location, 'Content-Length': 0 });
      res.end();
    },
  };
}
export type HttpIo = ReturnType<typeof createHttpIo>;

/** A non-HTML answer (the stylesheet). */
export function sendText(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'X-Content-Type-Options': 'nosniff', ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A form post's fields, or undefined for another content type or a body over `limit` bytes. */
export async function readForm(req: IncomingMessage, limit = 8 * 1024): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return undefined;
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A field sent exactly once, or undefined. */
export function one(form: URLSearchParams, name: string): string | undefined {
  const values = form.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}
