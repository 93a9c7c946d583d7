import type { IncomingMessage } from 'node:http';
import { readBytes } from '@sekisho/example-kit/http-io';

export type JsonBody =
  | { ok: true; value: unknown }
  | { ok: false; status: 400 | 413 | 415; detail: string };

/** The largest record body accepted; a blood pressure is under 1 KB. */
export const MAX_BODY_BYTES = 16 * 1024;
const JSON_TYPES = new Set(['application/fhir+json', 'application/json']);

/**
 * A request's JSON body: `application/fhir+json` (or `application/json`), UTF-8, at most
 * MAX_BODY_BYTES (the rest is not read), one JSON value. Duplicate member names are not detected
 * (JSON.parse keeps the last); the strict shape check that follows sees one value per member.
 */
export async function readJsonBody(req: IncomingMessage): Promise<JsonBody> {
  const [type, ...params] = (req.headers['content-type'] ?? '').split(';').map((s) => s.trim().toLowerCase());
  if (!JSON_TYPES.has(type ?? '') || params.some((p) => p !== 'charset=utf-8' && p !== '')) {
    return { ok: false, status: 415, detail: 'Send the resource as application/fhir+json (UTF-8).' };
  }
  const bytes = await readBytes(req, MAX_BODY_BYTES);
  if (!bytes) return { ok: false, status: 413, detail: `At most ${MAX_BODY_BYTES} bytes.` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, status: 400, detail: 'The body is not UTF-8.' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, detail: 'The body is not JSON.' };
  }
}
