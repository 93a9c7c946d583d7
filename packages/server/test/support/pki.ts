import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Issued {
  certPem: string;
  keyPem: string;
  subject: string;
  /** base64url SHA-256 of the DER certificate (RFC 8705 x5t#S256). */
  thumbprint: string;
  /** A public JWK carrying the certificate in x5c (for self_signed_tls_client_auth registration). */
  jwk: Record<string, unknown>;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`;
}

async function describe(cert: x509.X509Certificate, keys: CryptoKeyPair, subject: string): Promise<Issued> {
  const certPem = cert.toString('pem');
  const node = new X509Certificate(certPem);
  const jwk = await webcrypto.subtle.exportKey('jwk', keys.publicKey as webcrypto.CryptoKey);
  return {
    certPem,
    keyPem: await keyPem(keys.privateKey),
    subject,
    thumbprint: Buffer.from(await webcrypto.subtle.digest('SHA-256', node.raw)).toString('base64url'),
    jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, x5c: [node.raw.toString('base64')] },
  };
}

/** A throwaway certificate authority for tests: server and client certificates signed by it. */
export async function createTestCa(name = 'Sekisho Test CA') {
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 86400_000);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: `CN=${name}`, notBefore, notAfter, keys: caKeys, signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  let serial = 2;

  async function issue(subject: string, options: { server?: boolean; dns?: string[] } = {}): Promise<Issued> {
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: (serial++).toString(16).padStart(2, '0'), subject, issuer: caCert.subject, notBefore, notAfter,
      publicKey: keys.publicKey, signingKey: caKeys.privateKey, signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(false),
        new x509.ExtendedKeyUsageExtension([options.server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
        ...(options.dns ? [new x509.SubjectAlternativeNameExtension([...options.dns.map((d) => ({ type: 'dns' as const, value: d })), { type: 'ip', value: '127.0.0.1' }])] : []),
      ],
    });
    return describe(cert, keys, subject);
  }

  return { caPem: caCert.toString('pem'), issue };
}

/** A self-signed client certificate (self_signed_tls_client_auth). */
export async function createSelfSignedClientCert(subject = 'CN=self-signed-client'): Promise<Issued> {
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '05', name: subject, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86400_000), keys, signingAlgorithm: alg,
  });
  return describe(cert, keys, subject);
}
