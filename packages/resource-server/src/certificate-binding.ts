/**
 * Certificate-bound access tokens (RFC 8705 §3): the token's `cnf["x5t#S256"]` must equal
 * base64url(SHA-256(DER of the client certificate)) of the TLS connection the request came on.
 *
 * Not checked: the certificate's chain, validity dates or revocation. The binding is a hash of the
 * certificate, and TLS already proved the client holds its private key; RFC 8705 §3 allows
 * self-signed certificates. Who terminates TLS must hand over the certificate faithfully (a proxy
 * header must be set by the proxy only).
 */
import { fail } from './errors.ts';
import { decodeBase64, sha256Base64url } from './encoding.ts';

const PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/;

/** The DER bytes of a certificate given as PEM (the first one, if a chain) or DER; undefined when unreadable. */
export function certificateDer(certificate: string | Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  if (certificate instanceof Uint8Array) return certificate.byteLength > 0 ? new Uint8Array(certificate) : undefined;
  // Proxies often pass the PEM URL-encoded in a header (nginx $ssl_client_escaped_cert).
  const text = certificate.includes('%') ? safeDecodeUri(certificate) : certificate;
  const match = text === undefined ? null : PEM.exec(text);
  if (!match) return undefined;
  const der = decodeBase64(match[1]!.replace(/\s+/g, ''));
  return der && der.byteLength > 0 ? der : undefined;
}

/**
 * RFC 8705 §3.1 `x5t#S256` of a certificate (PEM, URL-encoded PEM or DER): base64url SHA-256 of
 * its DER bytes; undefined when unreadable. Does not parse or check the certificate itself.
 */
export async function certificateThumbprint(certificate: string | Uint8Array): Promise<string | undefined> {
  const der = certificateDer(certificate);
  return der && sha256Base64url(der);
}

/** Fails with ERR_CERTIFICATE_MISSING / ERR_CERTIFICATE_MISMATCH unless `certificate` is the bound one. */
export async function checkCertificateBinding(expected: string, certificate: string | Uint8Array | undefined): Promise<void> {
  if (certificate === undefined || (typeof certificate === 'string' ? certificate.trim() === '' : certificate.byteLength === 0)) fail('ERR_CERTIFICATE_MISSING');
  const thumbprint = await certificateThumbprint(certificate);
  if (thumbprint === undefined || thumbprint !== expected) fail('ERR_CERTIFICATE_MISMATCH');
}

function safeDecodeUri(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
