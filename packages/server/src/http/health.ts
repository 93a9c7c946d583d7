import { sql, type Kysely } from 'kysely';
import type { Context, Next } from 'koa';
import type { Database } from '../storage/schema.ts';

/** /healthz: the process answers. /readyz: it can reach its database and is not shutting down. */
export function healthRoutes(db: Kysely<Database>, isShuttingDown: () => boolean) {
  return async (ctx: Context, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path === '/readyz') {
      if (isShuttingDown()) {
        ctx.status = 503;
        ctx.body = { status: 'shutting_down' };
        return;
      }
      try {
        await sql`SELECT 1`.execute(db);
        ctx.body = { status: 'ready' };
      } catch {
        ctx.status = 503;
        ctx.body = { status: 'database_unavailable' };
      }
      return;
    }
    return next();
  };
}
