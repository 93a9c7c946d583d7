/**
 * Calls to the issuer (discovery, JWKS, introspection) with a time limit. Every way such a call
 * can go wrong — network error, timeout, 5xx, an unusable body — is ERR_ISSUER_UNAVAILABLE (503):
 * the token may be fine, the API just cannot tell now, and the client should retry.
 */
import { fail } from './errors.ts';

export interface IssuerHttp {
  /** GETs `url` and returns its JSON object body. */
  getJson(url: string, accept?: string): Promise<Record<string, unknown>>;
  /** Sends `init` to `url` and returns the response (any status) with its body read as text. */
  send(url: string, init: RequestInit): Promise<{ status: number; contentType: string; body: string }>;
}

export function createIssuerHttp(fetchImpl: typeof fetch, timeoutMs: number): IssuerHttp {
  async function send(url: string, init: RequestInit) {
    let response: Response;
    let body: string;
    try {
      response = await fetchImpl(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
      body = await response.text();
    } catch (cause) {
      return fail('ERR_ISSUER_UNAVAILABLE', cause);
    }
    if (response.status >= 500) fail('ERR_ISSUER_UNAVAILABLE', new Error(`${url} answered ${response.status}`));
    return { status: response.status, contentType: (response.headers.get('content-type') ?? '').toLowerCase(), body };
  }
  return {
    send,
    async getJson(url, accept = 'application/json') {
      const { status, body } = await send(url, { method: 'GET', headers: { accept } });
      if (status !== 200) fail('ERR_ISSUER_UNAVAILABLE', new Error(`${url} answered ${status}`));
      const json = parseJsonObject(body);
      return json ?? fail('ERR_ISSUER_UNAVAILABLE', new Error(`${url} did not answer a JSON object`));
    },
  };
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
