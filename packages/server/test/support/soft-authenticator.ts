/**
 * A software WebAuthn authenticator for tests and benchmarks: one ES256 (P-256) key per passkey,
 * made with node:crypto, answering `navigator.credentials.create()` (attestation "none") and
 * `.get()` the way a platform authenticator with a synced passkey does by default (flags UP | UV |
 * BE | BS, signature counter 0, as iCloud Keychain and Google Password Manager send). The JSON it
 * returns is what the sign-in page's script posts (`PublicKeyCredential.toJSON()`), so the server
 * verifies it exactly as it verifies a browser's. `Misbehaviour` makes it answer as a cloned,
 * foreign or careless authenticator would, for the bad-input tests.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest();

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 } as const;

/** What a benchmark person keeps of their passkey between processes. */
export interface StoredPasskey {
  credentialId: string; // base64url
  /** PKCS#8 DER of the private key, base64url. */
  privateKey: string;
  /** The user handle the site gave at registration (base64url), returned with every assertion. */
  userHandle: string;
  rpId: string;
  counter: number;
}

/** Ways to answer wrongly: a foreign RP ID or origin, no user verification, a counter. */
export interface Misbehaviour {
  rpId?: string;
  origin?: string;
  userVerified?: boolean;
  /** The signature counter to send (a cloned authenticator's goes backwards). */
  counter?: number;
  /** A device-bound (not synced) passkey: BE and BS flags off. */
  deviceBound?: boolean;
}

export interface CreationOptions { challenge: string; rp: { id?: string }; user: { id: string }; pubKeyCredParams: Array<{ alg: number }> }
export interface RequestOptions { challenge: string; rpId?: string; allowCredentials?: Array<{ id: string }> }

/** The credential JSON a browser posts after `create()`: RegistrationResponseJSON. */
export function createPasskey(options: CreationOptions, origin: string, bad: Misbehaviour = {}): { response: Record<string, unknown>; passkey: StoredPasskey } {
  if (!options.pubKeyCredParams.some((p) => p.alg === -7)) throw new Error('the site does not accept ES256');
  const rpId = bad.rpId ?? options.rp.id ?? new URL(origin).hostname;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const credentialId = randomBytes(16);
  // COSE_Key (RFC 9053 §7.1): kty EC2, alg ES256, crv P-256, x, y.
  const coseKey = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  const attestedCredentialData = Buffer.concat([Buffer.alloc(16) /* AAGUID: none */, u16(credentialId.length), credentialId, coseKey]);
  const authData = Buffer.concat([sha256(rpId), Buffer.of(flags(bad) | FLAG.AT), u32(0), attestedCredentialData]);
  const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
  const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: bad.origin ?? origin, crossOrigin: false }));
  const id = b64u(credentialId);
  return {
    response: {
      id, rawId: id, type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: { credProps: { rk: true } },
      response: {
        clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ['hybrid', 'internal'],
        publicKeyAlgorithm: -7, publicKey: b64u(publicKey.export({ format: 'der', type: 'spki' })), authenticatorData: b64u(authData),
      },
    },
    passkey: {
      credentialId: id, privateKey: b64u(privateKey.export({ format: 'der', type: 'pkcs8' })), userHandle: options.user.id, rpId, counter: 0,
    },
  };
}

/**
 * An authenticator holding one passkey: `get()` answers a request the way `navigator.credentials.get()`
 * resolves (AuthenticationResponseJSON), signing authenticatorData ‖ SHA-256(clientDataJSON).
 */
export function authenticatorFor(stored: StoredPasskey) {
  const key: KeyObject = createPrivateKey({ key: Buffer.from(stored.privateKey, 'base64url'), format: 'der', type: 'pkcs8' });
  return {
    credentialId: stored.credentialId,
    /** `bad` skips the checks a real authenticator makes (that is the point of misbehaving). */
    get(options: RequestOptions, origin: string, bad?: Misbehaviour): Record<string, unknown> {
      if (!bad && (options.rpId ?? stored.rpId) !== stored.rpId) throw new Error(`passkey is for ${stored.rpId}, not ${options.rpId}`);
      if (!bad && options.allowCredentials?.length && !options.allowCredentials.some((c) => c.id === stored.credentialId)) throw new Error('passkey not allowed');
      const authData = Buffer.concat([sha256(bad?.rpId ?? stored.rpId), Buffer.of(flags(bad ?? {})), u32(bad?.counter ?? stored.counter)]);
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin: bad?.origin ?? origin, crossOrigin: false }));
      const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), key); // DER-encoded ECDSA, as WebAuthn wants
      return {
        id: stored.credentialId, rawId: stored.credentialId, type: 'public-key', authenticatorAttachment: 'platform', clientExtensionResults: {},
        response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(signature), userHandle: stored.userHandle },
      };
    },
  };
}

function flags(bad: Misbehaviour): number {
  return FLAG.UP | (bad.userVerified === false ? 0 : FLAG.UV) | (bad.deviceBound ? 0 : FLAG.BE | FLAG.BS);
}

function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
function u32(n: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }

/** The little CBOR (RFC 8949) WebAuthn needs: integers, byte and text strings, maps; definite lengths. */
function cbor(value: unknown): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.of((major << 5) | n);
    if (n < 0x100) return Buffer.of((major << 5) | 24, n);
    if (n < 0x10000) return Buffer.concat([Buffer.of((major << 5) | 25), u16(n)]);
    return Buffer.concat([Buffer.of((major << 5) | 26), u32(n)]);
  };
  if (typeof value === 'number' && Number.isInteger(value)) return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') { const s = Buffer.from(value, 'utf8'); return Buffer.concat([head(3, s.length), s]); }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  throw new Error(`cbor: cannot encode ${typeof value}`);
}
