import type { Context } from 'koa';

/** Thrown for a body we will not parse; the caller answers 400/413 with a safe message. */
export class FormBodyError extends Error {
  override name = 'FormBodyError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Reads an application/x-www-form-urlencoded body for our own pages. Strict: size-limited,
 * duplicate fields refused (never merged), only the named fields kept.
 */
export async function readForm<K extends string>(ctx: Context, fields: readonly K[], limit = 16 * 1024): Promise<Partial<Record<K, string>>> {
  return singleFields(await readFormParams(ctx, limit), fields);
}

/** The named fields of a parsed form, each at most once (a repeated field is refused, never merged). */
export function singleFields<K extends string>(params: URLSearchParams, fields: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const field of fields) {
    const values = params.getAll(field);
    if (values.length > 1) throw new FormBodyError(400, `field ${field} given more than once`);
    if (values.length === 1) out[field] = values[0]!;
  }
  return out;
}

/**
 * The whole form, for pages with repeated fields (tick boxes); size-limited like readForm. The
 * caller reads only what it offered.
 */
export async function readFormParams(ctx: Context, limit = 16 * 1024): Promise<URLSearchParams> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw new FormBodyError(415, 'expected a form submission');
  // An oversized body is refused without reading it; the connection is closed after the answer
  // so the unread rest can never be parsed as the next request on a keep-alive connection.
  const tooLarge = () => {
    ctx.set('Connection', 'close');
    return new FormBodyError(413, 'form too large');
  };
  if ((ctx.request.length ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
