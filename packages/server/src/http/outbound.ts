import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent as HttpsAgent } from 'node:https';
import { Agent } from 'undici';

/**
 * Requests Sekisho makes to addresses others chose (a client's jwks_uri or ping endpoint, a
 * device's push service): never to loopback, private, link-local or other special-use addresses
 * (SSRF), unless the deployment says its clients live on a private network. Checked on the
 * resolved address, so a public name pointing inside is refused too.
 */
const SPECIAL_USE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['192.175.48.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['240.0.0.0', 4],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) SPECIAL_USE.addSubnet(net, prefix, 'ipv6');

export function isSpecialUseAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return SPECIAL_USE.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? SPECIAL_USE.check(mapped[1]!, 'ipv4') : SPECIAL_USE.check(address, 'ipv6');
}

export class OutboundAddressError extends Error {
  override name = 'OutboundAddressError';
}

/** dns.lookup that refuses special-use results (for sockets: undici and node:https agents). */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return (callback as (e: Error | null, a: LookupAddress[] | string, f?: number) => void)(err, []);
    const list = addresses as LookupAddress[];
    const refused = list.find((a) => isSpecialUseAddress(a.address));
    if (refused || list.length === 0) {
      return (callback as (e: Error | null, a: string, f?: number) => void)(new OutboundAddressError(`${hostname} resolves to a special-use address`), '', 4);
    }
    if ((options as { all?: boolean }).all) return (callback as (e: null, a: LookupAddress[]) => void)(null, list);
    (callback as (e: null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family);
  });
};

export interface OutboundOptions {
  /** Extra trusted CA certificates (PEM file) for the servers Sekisho calls, besides the public roots. */
  caFile?: string | undefined;
  /** Clients and push services on private networks are allowed (an intranet deployment; tests). */
  allowPrivateNetworks: boolean;
}

/**
 * The guard for an URL before it is called. The host must be a plain DNS name or an IP address:
 * a host other URL parsers read differently (`;`, quotes, braces …) could name an address this
 * check never saw. An IP literal is checked here, since no lookup happens for one.
 */
function checkUrl(url: string, allowPrivate: boolean): void {
  const hostname = new URL(url).hostname;
  if (!/^(?:[a-z0-9-]+\.)*[a-z0-9-]+\.?$|^\[[0-9a-f:.]+\]$/i.test(hostname)) throw new OutboundAddressError('the host is not a plain name or address');
  if (allowPrivate) return;
  const host = hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isSpecialUseAddress(host)) throw new OutboundAddressError(`${host} is a special-use address`);
}

export function createOutbound(options: OutboundOptions) {
  const ca = options.caFile ? [...rootCertificates, readFileSync(options.caFile, 'utf8')] : undefined;
  const lookup = options.allowPrivateNetworks ? undefined : publicOnlyLookup;
  const agent = new Agent({ connect: { ...(ca ? { ca } : {}), ...(lookup ? { lookup } : {}) } });
  return {
    /** For oidc-provider's `fetch` (client ping notifications, jwks_uri): the library's timeout and headers are kept. */
    async fetch(url: string | URL, init: RequestInit): Promise<Response> {
      checkUrl(String(url), options.allowPrivateNetworks);
      return fetch(url, { ...init, dispatcher: agent } as RequestInit);
    },
    /** For node:https clients (the web-push library). */
    httpsAgent: new HttpsAgent({ keepAlive: true, ...(ca ? { ca } : {}), ...(lookup ? { lookup } : {}) }),
    checkUrl: (url: string) => checkUrl(url, options.allowPrivateNetworks),
    async close() { await agent.close(); },
  };
}
export type Outbound = ReturnType<typeof createOutbound>;
