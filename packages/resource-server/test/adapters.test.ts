/**
 * The Node adapters in real apps: Express, Fastify, Koa and Hono (and bare node:http through
 * toWebRequest), each answering a good request, a missing token, an insufficient scope, a
 * repeated Authorization header (which only raw headers reveal) and a replayed proof — over real
 * HTTP, with proofs for the URL the app is reached at.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { Hono } from 'hono';
import { createDpopNonces, createResourceServer, type ResourceServer, type VerifiedAccess } from '../src/index.ts';
import { expressMiddleware, fastifyPreHandler, honoMiddleware, koaMiddleware, toWebRequest, peerCertificate } from '../src/node.ts';
import { AUDIENCE, ISSUER, accessToken, dpopKey, issuerKey, proof } from './support/tokens.ts';

const issuer = await issuerKey();
const key = await dpopKey();
const token = await accessToken(issuer, { cnf: { jkt: key.jkt } });
const nonceSecret = 'adapter-test-nonce-secret-32-bytes-long';
const requirements = { scopes: ['accounts'] };

function resourceServer(): ResourceServer {
  return createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuer.publicJwk as never] } });
}

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

/** A raw HTTP request (node:http, so that headers can repeat). */
function send(url: string, headers: Record<string, string | string[]>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** The same five checks against any app serving GET /accounts (and /admin needing scope admin). */
function behavesLikeAResourceServer(name: string, start: () => Promise<{ base: string; close: () => Promise<void> }>) {
  describe(name, () => {
    let base: string;
    let close: () => Promise<void>;
    before(async () => ({ base, close } = await start()));
    after(() => close());

    it('a DPoP-bound token with its proof → 200 and the handler sees the verified access', async () => {
      const url = `${base}/accounts`;
      const reply = await send(url, { authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: url }) });
      assert.equal(reply.status, 200, reply.body);
      assert.deepEqual(JSON.parse(reply.body), { sub: 'user-1', binding: 'dpop' });
    });

    it('no token → 401 with a Bearer and a DPoP challenge, empty body', async () => {
      const reply = await send(`${base}/accounts`, {});
      assert.equal(reply.status, 401);
      assert.equal(reply.headers['www-authenticate'], 'Bearer, DPoP algs="PS256 ES256 EdDSA"');
      assert.equal(reply.body, '');
    });

    it('a scope the token lacks → 403 insufficient_scope with scope="admin"', async () => {
      const url = `${base}/admin`;
      const reply = await send(url, { authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: url }) });
      assert.equal(reply.status, 403);
      assert.match(String(reply.headers['www-authenticate']), /^DPoP error="insufficient_scope", .*scope="admin"/);
    });

    it('two Authorization headers → 400 invalid_request (Node keeps only the first in req.headers)', async () => {
      const url = `${base}/accounts`;
      const reply = await send(url, { authorization: [`DPoP ${token}`, `DPoP ${token}`], dpop: await proof(key, token, { htu: url }) });
      assert.equal(reply.status, 400);
      assert.match(String(reply.headers['www-authenticate']), /error="invalid_request"/);
    });

    it('a replayed proof → 401 invalid_dpop_proof', async () => {
      const url = `${base}/accounts`;
      const headers = { authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: url }) };
      assert.equal((await send(url, headers)).status, 200);
      const reply = await send(url, headers);
      assert.equal(reply.status, 401);
      assert.match(String(reply.headers['www-authenticate']), /^DPoP error="invalid_dpop_proof"/);
    });
  });
}

const summary = (access: VerifiedAccess | undefined) => ({ sub: access?.claims.sub, binding: access?.binding.kind });

behavesLikeAResourceServer('Express', async () => {
  const rs = resourceServer();
  const app = express();
  app.get('/accounts', expressMiddleware(rs, requirements), (req, res) => {
    assert.equal((req as { access?: VerifiedAccess }).access, res.locals.access);
    res.json(summary(res.locals.access as VerifiedAccess));
  });
  app.get('/admin', expressMiddleware(rs, { scopes: ['admin'] }), (_req, res) => { res.json({}); });
  const server = createServer(app);
  return { base: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
});

behavesLikeAResourceServer('Fastify', async () => {
  const rs = resourceServer();
  const app = Fastify();
  app.decorateRequest('access', undefined);
  app.get('/accounts', { preHandler: fastifyPreHandler(rs, requirements) }, async (request) => summary((request as { access?: VerifiedAccess }).access));
  app.get('/admin', { preHandler: fastifyPreHandler(rs, { scopes: ['admin'] }) }, async () => ({}));
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { base, close: () => app.close() };
});

behavesLikeAResourceServer('Koa', async () => {
  const rs = resourceServer();
  const app = new Koa();
  const accounts = koaMiddleware(rs, requirements);
  const admin = koaMiddleware(rs, { scopes: ['admin'] });
  app.use(async (ctx, next) => {
    if (ctx.path === '/accounts') return accounts(ctx, async () => { ctx.body = summary(ctx.state.access as VerifiedAccess); });
    if (ctx.path === '/admin') return admin(ctx, async () => { ctx.body = {}; });
    return next();
  });
  const server = createServer(app.callback());
  return { base: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
});

behavesLikeAResourceServer('Hono (served through toWebRequest on node:http)', async () => {
  const rs = resourceServer();
  const app = new Hono<{ Variables: { access: VerifiedAccess } }>();
  app.use('/accounts', honoMiddleware(rs, requirements));
  app.use('/admin', honoMiddleware(rs, { scopes: ['admin'] }));
  app.get('/accounts', (c) => c.json(summary(c.get('access'))));
  app.get('/admin', (c) => c.json({}));
  // What @hono/node-server does, minus the body: a Web Request from the node request.
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const response = await app.fetch(toWebRequest(req));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    })();
  });
  return { base: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
});

behavesLikeAResourceServer('bare node:http with toWebRequest', async () => {
  const rs = resourceServer();
  const server = createServer((req, res) => {
    const scopes = req.url === '/admin' ? ['admin'] : ['accounts'];
    const clientCertificate = peerCertificate(req);
    rs.verify(toWebRequest(req), { scopes, ...(clientCertificate ? { clientCertificate } : {}) }).then((access) => {
      res.writeHead(200, { 'content-type': 'application/json', ...access.responseHeaders }).end(JSON.stringify(summary(access)));
    }, (error: unknown) => {
      const e = error as { status: number; headers: Record<string, string> };
      res.writeHead(e.status, e.headers).end();
    });
  });
  return { base: await listen(server), close: () => new Promise((r) => server.close(() => r())) };
});

describe('Hono on a Web Request (workers, Deno, Bun): nonces through the middleware', () => {
  it('use_dpop_nonce → the nonce from DPoP-Nonce → 200 with a fresh DPoP-Nonce on the success response', async () => {
    const rs = createResourceServer({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [issuer.publicJwk as never] }, dpop: { nonces: createDpopNonces({ secret: nonceSecret }) } });
    const app = new Hono<{ Variables: { access: VerifiedAccess } }>();
    app.use('*', honoMiddleware(rs, requirements));
    app.get('/accounts', (c) => c.json(summary(c.get('access'))));
    const url = `${AUDIENCE}accounts`;
    const first = await app.fetch(new Request(url, { headers: { authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: url }) } }));
    assert.equal(first.status, 401);
    assert.match(first.headers.get('www-authenticate') ?? '', /error="use_dpop_nonce"/);
    const nonce = first.headers.get('dpop-nonce')!;
    const second = await app.fetch(new Request(url, { headers: { authorization: `DPoP ${token}`, dpop: await proof(key, token, { htu: url, nonce }) } }));
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('dpop-nonce'), nonce);
  });
});

describe('toWebRequest', () => {
  const base = { method: 'GET', headers: { host: 'api.example.com' }, socket: {} };

  it('builds the URL from publicUrl, else from Host and the socket; keeps a path starting with // a path', () => {
    assert.equal(toWebRequest({ ...base, url: '/a?b=1' }).url, 'http://api.example.com/a?b=1');
    assert.equal(toWebRequest({ ...base, url: '/a', socket: { encrypted: true } }).url, 'https://api.example.com/a');
    assert.equal(toWebRequest({ ...base, url: '/a' }, { publicUrl: 'https://public.example/ignored-path' }).url, 'https://public.example/a');
    assert.equal(toWebRequest({ ...base, url: '//evil.example/x' }).url, 'http://api.example.com//evil.example/x');
    assert.equal(toWebRequest({ ...base, url: 'http://proxy-form.example/p?q' }).url, 'http://api.example.com/p?q');
  });

  it('refuses what no Request can carry with ERR_INVALID_REQUEST (400)', () => {
    for (const req of [{ ...base, method: 'CONNECT', url: '/' }, { ...base, method: 'GE T', url: '/' }, { ...base, url: '/', headers: { host: 'bad host/' } }]) {
      assert.throws(() => toWebRequest(req), (e: unknown) => (e as { code?: string }).code === 'ERR_INVALID_REQUEST' && (e as { status?: number }).status === 400);
    }
  });

  it('refuses a Host header that would change the path or hide the query the SDK checks (the router sees /accounts; the proof could name /payments)', () => {
    for (const host of ['api.example/payments#', 'api.example#', 'api.example?x=1', 'api.example/', 'user@api.example', 'api.example:443/x']) {
      assert.throws(() => toWebRequest({ ...base, url: '/accounts?access_token=abc', headers: { host } }),
        (e: unknown) => (e as { code?: string }).code === 'ERR_INVALID_REQUEST', host);
    }
    // Plain hosts, ports and IP literals still work.
    for (const host of ['api.example:8443', '127.0.0.1:3000', '[::1]:8080', 'localhost']) {
      assert.equal(new URL(toWebRequest({ ...base, url: '/accounts', headers: { host } }).url).pathname, '/accounts', host);
    }
  });

  it('skips HTTP/2 pseudo-headers and keeps repeated headers', () => {
    const request = toWebRequest({ method: 'GET', url: '/', headers: { ':authority': 'h2.example' }, rawHeaders: [':authority', 'h2.example', 'x-a', '1', 'x-a', '2'], socket: {} });
    assert.equal(request.url, 'http://h2.example/');
    assert.equal(request.headers.get('x-a'), '1, 2');
  });
});
