/**
 * `@sekisho/resource-server/node`: Node.js adapters. `toWebRequest` and `peerCertificate` turn a
 * node:http(s) request into what `verify()` takes; the middlewares do that, verify, and answer
 * errors themselves (status, `WWW-Authenticate`, empty body). The framework types are structural:
 * express, koa, fastify and hono are not dependencies.
 */
import { ResourceServerError } from './errors.ts';
import { DEFAULT_ALGORITHMS } from './jws.ts';
import type { ResourceServer, VerifiedAccess, VerifyOptions } from './types.ts';

/** The parts of a node:http `IncomingMessage` (or http2 compat request) the adapters read. */
export interface NodeRequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** Preserves repeated headers (a repeated Authorization header must be refused, not merged away). */
  rawHeaders?: string[];
  socket?: unknown;
}

/** What the adapters need besides the endpoint's requirements. */
export interface AdapterOptions<Req = NodeRequestLike> {
  /** The API's external base URL (see `publicUrl` of createResourceServer), for the Request's URL. */
  publicUrl?: string;
  /**
   * The client certificate for mTLS-bound tokens. Default: the TLS peer certificate of the
   * connection ({@link peerCertificate}). Behind a TLS-terminating proxy, read the proxy's header
   * here — and make sure only the proxy can set it.
   */
  clientCertificate?: (req: Req) => string | Uint8Array | undefined;
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * A Host header that is only a host (RFC 9110 §7.2: uri-host [":" port]): a name or an IP literal
 * and a port, nothing else. A `/`, `?` or `#` in it would become part of the URL the DPoP proof is
 * checked against while the router still sees the real path.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * A Web `Request` (method, URL, headers; no body) for a node:http request. The URL is
 * `publicUrl`'s origin + the request path when given, else built from the Host header and whether
 * the socket is TLS — set `publicUrl` in production, since the Host header is the client's to choose.
 *
 * @throws ResourceServerError ERR_INVALID_REQUEST when the request cannot be represented (bad Host, method).
 */
export function toWebRequest(req: NodeRequestLike, options: { publicUrl?: string } = {}): Request {
  const invalid = () => new ResourceServerError('ERR_INVALID_REQUEST', { scheme: 'both', algs: DEFAULT_ALGORITHMS });
  const method = req.method ?? 'GET';
  let path = req.url ?? '/';
  if (!path.startsWith('/')) {
    // Absolute-form (a proxy request) or '*': keep only the path and query.
    if (!URL.canParse(path)) throw invalid();
    const parsed = new URL(path);
    path = `${parsed.pathname}${parsed.search}`;
  }
  let origin: string;
  if (options.publicUrl !== undefined) {
    origin = new URL(options.publicUrl).origin;
  } else {
    const host = single(req.headers.host) ?? single(req.headers[':authority']);
    if (host !== undefined && !HOST.test(host)) throw invalid();
    const encrypted = (req.socket as { encrypted?: unknown } | undefined)?.encrypted === true;
    origin = `${encrypted ? 'https' : 'http'}://${host ?? 'localhost'}`;
  }
  // String concatenation, not new URL(path, base): a path like "//evil.example" must stay a path.
  const url = `${origin}${path}`;
  if (!METHOD.test(method) || !URL.canParse(url) || new URL(url).origin !== new URL(origin).origin) throw invalid();
  // Belt and braces: the URL checked must carry exactly the path and query the router sees.
  const built = new URL(url);
  const own = new URL(`http://x${path}`);
  if (built.pathname !== own.pathname || built.search !== own.search) throw invalid();
  const headers = new Headers();
  try {
    if (req.rawHeaders) {
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        if (!name.startsWith(':')) headers.append(name, req.rawHeaders[i + 1]!);
      }
    } else {
      for (const [name, value] of Object.entries(req.headers)) {
        if (name.startsWith(':') || value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
    }
    return new Request(url, { method, headers });
  } catch {
    // Forbidden methods (CONNECT, TRACE) and header values undici will not carry.
    throw invalid();
  }
}

/**
 * The DER bytes of the TLS client certificate of `req`'s connection, if it presented one (the
 * listener must request one: `requestCert: true`). Does not check the chain or `socket.authorized`:
 * RFC 8705 §3 binds a token to the certificate itself, self-signed ones included.
 */
export function peerCertificate(req: NodeRequestLike): Uint8Array | undefined {
  const socket = req.socket as { getPeerCertificate?: (detailed?: boolean) => { raw?: unknown } | null } | undefined;
  if (typeof socket?.getPeerCertificate !== 'function') return undefined;
  const raw = socket.getPeerCertificate(false)?.raw;
  return raw instanceof Uint8Array && raw.byteLength > 0 ? new Uint8Array(raw) : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function verifyNode<Req extends NodeRequestLike>(rs: ResourceServer, req: Req, requirements: VerifyOptions | undefined, options: AdapterOptions<Req> | undefined): Promise<VerifiedAccess> {
  const request = toWebRequest(req, { publicUrl: options?.publicUrl ?? rs.options.publicUrl });
  const clientCertificate = options?.clientCertificate ? options.clientCertificate(req) : peerCertificate(req);
  return rs.verify(request, { ...requirements, ...(clientCertificate !== undefined ? { clientCertificate } : {}) });
}

function withoutUndefined(headers: Record<string, string | undefined>): Array<[string, string]> {
  return Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Express (4 and 5)
// ---------------------------------------------------------------------------------------------

/** The parts of an Express request/response the middleware uses. */
export interface ExpressRequestLike extends NodeRequestLike {
  access?: VerifiedAccess;
}
export interface ExpressResponseLike {
  locals: { access?: VerifiedAccess };
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(): unknown;
}

/**
 * Express middleware: verifies the request (see createResourceServer), then sets
 * `res.locals.access` and `req.access` and calls `next()`; on a ResourceServerError it answers
 * the error itself. Other errors go to `next(err)`.
 */
export function expressMiddleware(rs: ResourceServer, requirements?: VerifyOptions, options?: AdapterOptions<ExpressRequestLike>) {
  return function sekishoResourceServer(req: ExpressRequestLike, res: ExpressResponseLike, next: (error?: unknown) => void): void {
    verifyNode(rs, req, requirements, options).then((access) => {
      req.access = access;
      res.locals.access = access;
      for (const [name, value] of Object.entries(access.responseHeaders)) res.setHeader(name, value);
      next();
    }, (error: unknown) => {
      if (!(error instanceof ResourceServerError)) return next(error);
      res.statusCode = error.status;
      for (const [name, value] of withoutUndefined(error.headers)) res.setHeader(name, value);
      res.end();
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Koa
// ---------------------------------------------------------------------------------------------

/** The parts of a Koa context the middleware uses. */
export interface KoaContextLike {
  req: NodeRequestLike;
  state: Record<string, unknown>;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

/** Koa middleware: sets `ctx.state.access` then awaits `next()`; answers a ResourceServerError itself. */
export function koaMiddleware(rs: ResourceServer, requirements?: VerifyOptions, options?: AdapterOptions<NodeRequestLike>) {
  return async function sekishoResourceServer(ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> {
    let access: VerifiedAccess;
    try {
      access = await verifyNode(rs, ctx.req, requirements, options);
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      ctx.status = error.status;
      for (const [name, value] of withoutUndefined(error.headers)) ctx.set(name, value);
      // An empty string, not null: Koa turns a null body into 204 and would lose the status.
      ctx.body = '';
      return;
    }
    ctx.state.access = access;
    for (const [name, value] of Object.entries(access.responseHeaders)) ctx.set(name, value);
    await next();
  };
}

// ---------------------------------------------------------------------------------------------
// Fastify
// ---------------------------------------------------------------------------------------------

/** The parts of a Fastify request/reply the hook uses. */
export interface FastifyRequestLike {
  raw: NodeRequestLike;
  access?: VerifiedAccess;
}
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/**
 * Fastify `preHandler` hook: sets `request.access` (declare it with
 * `fastify.decorateRequest('access', null)` for Fastify's fast path); answers a
 * ResourceServerError itself.
 */
export function fastifyPreHandler(rs: ResourceServer, requirements?: VerifyOptions, options?: AdapterOptions<NodeRequestLike>) {
  return async function sekishoResourceServer(request: FastifyRequestLike, reply: FastifyReplyLike): Promise<FastifyReplyLike | undefined> {
    let access: VerifiedAccess;
    try {
      access = await verifyNode(rs, request.raw, requirements, options);
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      reply.code(error.status);
      for (const [name, value] of withoutUndefined(error.headers)) reply.header(name, value);
      // An async hook that answers returns the reply, so Fastify stops before the handler.
      return reply.send();
    }
    request.access = access;
    for (const [name, value] of Object.entries(access.responseHeaders)) reply.header(name, value);
    return undefined;
  };
}

// ---------------------------------------------------------------------------------------------
// Hono
// ---------------------------------------------------------------------------------------------

/** The parts of a Hono context the middleware uses. */
export interface HonoContextLike {
  req: { raw: Request };
  /** On @hono/node-server, `env.incoming` is the node request (for the TLS peer certificate). */
  env?: unknown;
  set(key: 'access', value: VerifiedAccess): void;
  header(name: string, value: string): void;
}

/**
 * Hono middleware: verifies `c.req.raw`, then `c.set('access', access)` and `await next()`; a
 * ResourceServerError becomes the response. The client certificate defaults to the TLS peer of
 * `c.env.incoming` (@hono/node-server); elsewhere pass `clientCertificate`.
 */
export function honoMiddleware(rs: ResourceServer, requirements?: VerifyOptions, options?: { clientCertificate?: (c: HonoContextLike) => string | Uint8Array | undefined }) {
  return async function sekishoResourceServer(c: HonoContextLike, next: () => Promise<void>): Promise<Response | void> {
    const clientCertificate = options?.clientCertificate ? options.clientCertificate(c) : honoPeerCertificate(c);
    let access: VerifiedAccess;
    try {
      access = await rs.verify(c.req.raw, { ...requirements, ...(clientCertificate !== undefined ? { clientCertificate } : {}) });
    } catch (error) {
      if (!(error instanceof ResourceServerError)) throw error;
      return rs.errorResponse(error);
    }
    c.set('access', access);
    for (const [name, value] of Object.entries(access.responseHeaders)) c.header(name, value);
    await next();
  };
}

function honoPeerCertificate(c: HonoContextLike): Uint8Array | undefined {
  const incoming = (c.env as { incoming?: NodeRequestLike } | undefined)?.incoming;
  return incoming && typeof incoming === 'object' ? peerCertificate(incoming) : undefined;
}
