import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/schema.ts';

/** What the mTLS checks need from a request; a Koa context satisfies it. */
export interface MtlsRequest {
  socket: { remoteAddress?: string | undefined; encrypted?: boolean };
  get(header: string): string;
}

const certCache = new WeakMap<object, X509Certificate | null>();

/**
 * The client certificate of a request: from the TLS connection itself, or from a configured
 * header, but only when the peer is one of the configured trusted proxies. A header from anyone
 * else is ignored, so a client cannot claim a certificate it does not hold.
 */
export function createCertificateSource(mtls: Config['mtls']) {
  const trusted = new Set(mtls.trustedProxies.map(normaliseAddress));

  function fromProxy(req: MtlsRequest): X509Certificate | null {
    if (!trusted.has(normaliseAddress(req.socket.remoteAddress ?? ''))) return null;
    const raw = req.get(mtls.certificateHeader);
    if (!raw) return null;
    try {
      return new X509Certificate(decodeURIComponent(raw));
    } catch {
      return null;
    }
  }

  function certificate(req: MtlsRequest): X509Certificate | null {
    const key = req.socket as object;
    const tls = req.socket as Partial<TLSSocket>;
    if (tls.encrypted && typeof tls.getPeerX509Certificate === 'function') {
      if (!certCache.has(key)) certCache.set(key, tls.getPeerX509Certificate() ?? null);
      const cert = certCache.get(key);
      if (cert) return cert;
    }
    return fromProxy(req);
  }

  /** Chain verified against the configured client CAs (by our TLS listener or by the trusted proxy). */
  function authorized(req: MtlsRequest): boolean {
    const tls = req.socket as Partial<TLSSocket>;
    if (tls.encrypted && typeof tls.getPeerX509Certificate === 'function' && tls.getPeerX509Certificate()) {
      return tls.authorized === true;
    }
    return fromProxy(req) !== null && req.get(mtls.verifiedHeader) === 'SUCCESS';
  }

  return { certificate, authorized };
}

export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** RFC 8705 §2.1.2: does the certificate carry the registered subject DN or SAN value? */
export function certificateSubjectMatches(cert: X509Certificate, property: string, expected: string): boolean {
  switch (property) {
    case 'tls_client_auth_subject_dn':
      return sameDistinguishedName(cert.subject, expected);
    case 'tls_client_auth_san_dns':
      return subjectAltNames(cert, 'DNS').some((v) => v.toLowerCase() === expected.toLowerCase());
    case 'tls_client_auth_san_ip':
      return subjectAltNames(cert, 'IP Address').includes(expected);
    case 'tls_client_auth_san_email':
      return subjectAltNames(cert, 'email').includes(expected);
    case 'tls_client_auth_san_uri':
      return subjectAltNames(cert, 'URI').includes(expected);
    default:
      return false;
  }
}

function subjectAltNames(cert: X509Certificate, type: string): string[] {
  return (cert.subjectAltName ?? '').split(/,\s*/).filter((e) => e.startsWith(`${type}:`)).map((e) => e.slice(type.length + 1));
}

/**
 * Compares Node's subject (one `TYPE=value` a line, outermost first) with an RFC 4514 string
 * (comma-separated, innermost first). Attribute types compare case-insensitively; values exactly.
 */
export function sameDistinguishedName(nodeSubject: string, rfc4514: string): boolean {
  const fromCert = nodeSubject.split('\n').filter(Boolean).map(rdn);
  const registered = splitRfc4514(rfc4514).map(rdn).reverse();
  return fromCert.length === registered.length && fromCert.every((v, i) => v === registered[i]);
}

function rdn(part: string): string {
  const eq = part.indexOf('=');
  return `${part.slice(0, eq).trim().toUpperCase()}=${part.slice(eq + 1).trim()}`;
}

function splitRfc4514(dn: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) { current += dn[++i]; continue; }
    if (c === ',') { parts.push(current); current = ''; continue; }
    current += c;
  }
  parts.push(current);
  return parts.filter((p) => p.trim());
}
