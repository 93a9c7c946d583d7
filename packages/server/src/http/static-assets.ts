import { readFileSync } from 'node:fs';
import type { Context, Next } from 'koa';

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  '/assets/app.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('../ui/assets/app.css', import.meta.url)) },
  '/assets/webauthn.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('../ui/assets/webauthn.js', import.meta.url)) },
  '/assets/device.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('../ui/assets/device.js', import.meta.url)) },
  '/assets/device-icon.svg': { type: 'image/svg+xml', body: readFileSync(new URL('../ui/assets/device-icon.svg', import.meta.url)) },
};

/** Serves the few static files our pages use, from memory, with a day of caching. */
export async function staticAssets(ctx: Context, next: Next) {
  const asset = ASSETS[ctx.path];
  if (!asset || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
  ctx.type = asset.type;
  ctx.set('Cache-Control', 'public, max-age=86400');
  ctx.body = asset.body;
}
