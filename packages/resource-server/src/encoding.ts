/** base64url and UTF-8 helpers on Web APIs only (no Buffer: the core runs on Deno, Bun and workers). */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** RFC 4648 §5 alphabet, no padding: what JOSE and RFC 9449/8705 use. */
export const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

export function encodeBase64url(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i++) binary += String.fromCharCode(view[i]!);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes unpadded base64url; undefined for anything else (callers turn that into their own error). */
export function decodeBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  return decodeBase64(text.replace(/-/g, '+').replace(/_/g, '/'));
}

/** Decodes standard base64 (padding optional, whitespace not allowed); undefined when malformed. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Parses base64url-encoded UTF-8 JSON that must be an object (a JOSE header or a JWT payload). */
export function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64url(segment);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(bytes)): RFC 9449 `ath`, RFC 7638 thumbprints, RFC 8705 `x5t#S256`. */
export async function sha256Base64url(data: string | Uint8Array<ArrayBuffer>): Promise<string> {
  return encodeBase64url(await crypto.subtle.digest('SHA-256', typeof data === 'string' ? utf8(data) : data));
}
