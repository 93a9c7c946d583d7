import { allowInsecureRequests } from 'oauth4webapi';

/*
 * oauth4webapi talks https only. The examples also run on a developer's machine and in tests,
 * where everything is http on a loopback address, so http is allowed for loopback hosts and for
 * nothing else (the same rule Sekisho applies to its issuer and to redirect URIs). No switch turns
 * it on for other hosts.
 */
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

/** Whether `url` is http on a loopback host (localhost, 127.x.y.z, [::1]). */
export function isLoopbackHttp(url: string | URL): boolean {
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.protocol === 'http:' && LOOPBACK.test(u.hostname);
}

/** Throws unless `value` is an https URL, or an http URL on a loopback host, without credentials or a fragment. */
export function checkUrl(name: string, value: string): URL {
  if (!URL.canParse(value)) throw new TypeError(`${name} must be an absolute URL`);
  const url = new URL(value);
  if (url.username || url.password || url.hash) throw new TypeError(`${name} must not carry credentials or a fragment`);
  if (url.protocol !== 'https:' && !isLoopbackHttp(url)) throw new TypeError(`${name} must be https (http only for loopback hosts)`);
  return url;
}

/** The oauth4webapi option that lets one request to `url` go over http, when `url` is loopback http. */
export function insecureFor(url: string | URL | undefined): { [allowInsecureRequests]?: true } {
  // The symbol is deprecated on purpose ("make it stand out"); here it is confined to loopback.
  return url !== undefined && isLoopbackHttp(url) ? { [allowInsecureRequests]: true } : {};
}
