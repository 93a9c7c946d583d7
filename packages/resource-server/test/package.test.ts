/**
 * The package as someone else would install it: `npm pack`, unpacked into a folder outside the
 * workspace next to nothing but its one dependency (jose), then imported by plain JavaScript (no
 * TypeScript, no type stripping) and type-checked from a strict TypeScript consumer. Catches a
 * package.json `exports` or `files` that works only inside this repository.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const root = join(packageDir, '..', '..');

describe('@sekisho/resource-server as an installed package', () => {
  let dir: string;
  let files: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sekisho-rs-package-'));
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed!.files.map((f) => f.path);
    const installed = join(dir, 'node_modules', '@sekisho', 'resource-server');
    mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', join(dir, packed!.filename), '-C', installed, '--strip-components=1']);
    symlinkSync(join(root, 'node_modules', 'jose'), join(dir, 'node_modules', 'jose'), 'dir');
    mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'dir');
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('ships the built JavaScript, its type declarations and the README, and no tests', () => {
    for (const f of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts']) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.deepEqual(files.filter((f) => /\.test\.|^test\//.test(f)), [], 'no tests in the package');
  });

  it('plain JavaScript imports it and verifies a DPoP-bound RFC 9068 token with it', () => {
    writeFileSync(join(dir, 'consumer.mjs'), `
      import { createResourceServer, ResourceServerError } from '@sekisho/resource-server';
      import { toWebRequest } from '@sekisho/resource-server/node';
      import { SignJWT, exportJWK, generateKeyPair, calculateJwkThumbprint, base64url } from 'jose';
      const issuer = 'https://as.example', audience = 'https://api.example/';
      const as = await generateKeyPair('ES256');
      const asJwk = { ...(await exportJWK(as.publicKey)), kid: 'k1', alg: 'ES256' };
      const client = await generateKeyPair('ES256');
      const jwk = await exportJWK(client.publicKey);
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ client_id: 'c1', scope: 'accounts', cnf: { jkt: await calculateJwkThumbprint(jwk) } })
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }).setIssuer(issuer).setAudience(audience)
        .setSubject('u1').setIssuedAt(now).setExpirationTime(now + 300).setJti(crypto.randomUUID()).sign(as.privateKey);
      const ath = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))));
      const proof = await new SignJWT({ htm: 'GET', htu: audience + 'accounts', ath })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).setIssuedAt(now).setJti(crypto.randomUUID()).sign(client.privateKey);
      const rs = createResourceServer({ issuer, audience, jwks: { keys: [asJwk] } });
      const request = new Request(audience + 'accounts', { headers: { authorization: 'DPoP ' + token, dpop: proof } });
      const access = await rs.verify(request, { scopes: ['accounts'] });
      let refused;
      try { await rs.verify(new Request(audience + 'accounts', { headers: { authorization: 'DPoP ' + token, dpop: proof } })); }
      catch (err) { refused = err instanceof ResourceServerError ? err.code : String(err); }
      console.log(JSON.stringify({ sub: access.claims.sub, binding: access.binding.kind, refused, adapter: typeof toWebRequest }));
    `);
    const out = execFileSync(process.execPath, ['consumer.mjs'], { cwd: dir, encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), { sub: 'u1', binding: 'dpop', refused: 'ERR_DPOP_REPLAY', adapter: 'function' });
  });

  it('a strict TypeScript consumer type-checks against the shipped declarations', () => {
    writeFileSync(join(dir, 'consumer.ts'), `
      import { createResourceServer, ResourceServerError, type ErrorCode } from '@sekisho/resource-server';
      import { toWebRequest } from '@sekisho/resource-server/node';
      import type { IncomingMessage } from 'node:http';
      const rs = createResourceServer({ issuer: 'https://as.example', audience: 'https://api.example/' });
      export async function handle(req: IncomingMessage): Promise<number> {
        try {
          const access = await rs.verify(toWebRequest(req, { publicUrl: 'https://api.example/' }), { scopes: ['a'] });
          const sub: string | undefined = access.claims.sub;
          return sub ? 200 : 204;
        } catch (err) {
          if (err instanceof ResourceServerError) { const code: ErrorCode = err.code; return code === 'ERR_MISSING_TOKEN' ? 401 : err.status; }
          throw err;
        }
      }
    `);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, lib: ['es2022', 'dom'], types: ['node'], skipLibCheck: false },
      files: ['consumer.ts'],
    }));
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' });
    } catch (err) {
      assert.fail(`tsc found errors:\n${(err as { stdout?: string }).stdout ?? err}`);
    }
  });
});
