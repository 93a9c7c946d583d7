/**
 * `createResourceServer`: one request in, a verified access or a ResourceServerError out. The
 * checks, in order: where the token is (authorization-header.ts), the token itself (JWT, RFC 9068,
 * or introspection, RFC 7662), its sender constraint (DPoP, RFC 9449, or mTLS, RFC 8705; unbound
 * tokens are refused), then the endpoint's scopes and authorization details. The access token
 * and the DPoP proof signatures are verified concurrently (two WebCrypto jobs in flight).
 */
import { ResourceServerError, VerificationFailure, fail, type ChallengeScheme, type ErrorCode } from './errors.ts';
import { parseAuthorization } from './authorization-header.ts';
import { createIssuerHttp } from './http.ts';
import { createIssuerMetadata } from './issuer-metadata.ts';
import { createIssuerKeys } from './issuer-keys.ts';
import { createJwtAccessTokenVerifier } from './jwt-access-token.ts';
import { createIntrospection } from './introspection.ts';
import { createDpopProofVerifier, type CheckedProof } from './dpop-proof.ts';
import { expectedHtu } from './htu.ts';
import { DEFAULT_ALGORITHMS, isSupportedAlgorithm, looksLikeJws } from './jws.ts';
import { createMemoryReplayStore } from './replay-store.ts';
import { createTokenHashes } from './token-hashes.ts';
import { checkCertificateBinding } from './certificate-binding.ts';
import { authorizationDetailsOf, checkScopes, matchAuthorizationDetails, scopesOf } from './requirements.ts';
import type { AccessTokenClaims, ResourceServer, ResourceServerOptions, SigningAlgorithm, TokenBinding, VerifiedAccess, VerifyOptions } from './types.ts';

/** Internal extras for tests: a clock. Not part of the documented options. */
interface InternalOptions {
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

/**
 * Creates the verifier for one API (one audience) of one issuer.
 *
 * Implements: RFC 6750 §2.1/§3 and RFC 9449 §7 (token in the Authorization header, challenges),
 * RFC 9068 (JWT access tokens), RFC 7662 and RFC 9701 (introspection), RFC 9449 §4.3 (DPoP
 * proofs, with §9 nonces and §11.1 replay detection), RFC 8705 §3 (certificate-bound tokens),
 * RFC 9396 (authorization details, through the caller's predicate).
 *
 * Does not check: a token in a form body (bodies are never read), the client certificate's chain
 * or revocation (that is the TLS terminator's job), whether the person behind `sub` still exists,
 * or anything about the request beyond its method, URL and headers.
 *
 * @throws TypeError for unusable options (at creation, never per request).
 */
export function createResourceServer(options: ResourceServerOptions): ResourceServer {
  const internal = options as ResourceServerOptions & InternalOptions;
  const now = internal.now ?? Date.now;
  validateOptions(options);
  const algorithms = new Set<SigningAlgorithm>(options.algorithms ?? DEFAULT_ALGORITHMS);
  const algs = [...algorithms];
  const tolerance = options.clockToleranceSeconds ?? 5;
  const publicUrl = options.publicUrl === undefined ? undefined : new URL(options.publicUrl);
  const realm = options.realm;

  const http = createIssuerHttp(options.fetch ?? ((input, init) => fetch(input, init)), options.fetchTimeoutMs ?? 5000);
  const metadata = createIssuerMetadata(options.issuer, http, now);
  const keys = createIssuerKeys({
    ...(options.jwks ? { jwks: options.jwks } : {}),
    jwksUri: async () => options.jwksUri ?? (await metadata.get()).jwks_uri ?? fail('ERR_ISSUER_UNAVAILABLE', new Error('discovery has no jwks_uri')),
    fetchJwks: (uri) => http.getJson(uri, 'application/jwk-set+json, application/json'),
    cooldownMs: (options.jwksCooldownSeconds ?? 30) * 1000,
    maxAgeMs: (options.jwksMaxAgeSeconds ?? 600) * 1000,
    now,
  });
  const jwt = createJwtAccessTokenVerifier({
    issuer: options.issuer, audience: options.audience, algorithms, toleranceSeconds: tolerance, keys, now,
    cacheSize: options.verifiedTokenCacheSize ?? 1000,
  });
  const tokenHashes = createTokenHashes();
  const introspection = options.introspection && createIntrospection({
    ...options.introspection,
    issuer: options.issuer, audience: options.audience, algorithms, toleranceSeconds: tolerance, http, metadata, keys, tokenHashes, now,
  });
  const nonces = options.dpop?.nonces;
  const proofs = createDpopProofVerifier({
    algorithms,
    iatWindowSeconds: options.dpop?.iatWindowSeconds ?? 60,
    toleranceSeconds: tolerance,
    replayStore: options.dpop?.replayStore ?? createMemoryReplayStore(),
    nonces,
    tokenHashes,
    now,
  });

  async function verifyToken(token: string): Promise<{ kind: 'jwt' | 'opaque'; claims: AccessTokenClaims }> {
    if (looksLikeJws(token)) return { kind: 'jwt', claims: await jwt.verify(token) };
    if (introspection) return { kind: 'opaque', claims: await introspection.introspect(token) };
    return fail('ERR_INVALID_TOKEN');
  }

  async function verifyRequest(request: Request, requestScheme: { value?: 'Bearer' | 'DPoP' }, verifyOptions: VerifyOptions) {
    const url = new URL(request.url);
    const { scheme, token } = parseAuthorization(request.headers, url);
    requestScheme.value = scheme;
    const dpopHeader = request.headers.get('dpop');
    // The proof's own checks run while the token is verified; its verdict matters only for DPoP-bound tokens.
    const proof: Promise<CheckedProof> | undefined = scheme === 'DPoP' && dpopHeader !== null
      ? proofs.check({ header: dpopHeader, method: request.method, htu: expectedHtu(url, publicUrl), accessToken: token })
      : undefined;
    proof?.catch(() => {});

    const { kind, claims } = await verifyToken(token);
    const cnf = claims.cnf as AccessTokenClaims['cnf'] | undefined;
    const jkt = cnf?.jkt;
    const x5t = cnf?.['x5t#S256'];
    let binding: TokenBinding;
    if (typeof jkt === 'string') {
      if (scheme !== 'DPoP') fail('ERR_WRONG_SCHEME');
      if (!proof) fail('ERR_DPOP_PROOF_MISSING');
      const checked = await proof;
      if (checked.jkt !== jkt) fail('ERR_DPOP_KEY_MISMATCH');
      await proofs.checkNonce(checked);
      // A token bound both ways (RFC 9449 allows it alongside RFC 8705) must satisfy both.
      if (typeof x5t === 'string') await checkCertificateBinding(x5t, verifyOptions.clientCertificate);
      await proofs.recordUse(checked);
      binding = { kind: 'dpop', jkt };
    } else if (typeof x5t === 'string') {
      if (scheme !== 'Bearer') fail('ERR_WRONG_SCHEME');
      await checkCertificateBinding(x5t, verifyOptions.clientCertificate);
      binding = { kind: 'mtls', x5tS256: x5t };
    } else {
      return fail('ERR_UNBOUND_TOKEN');
    }
    const scopes = scopesOf(claims);
    checkScopes(scopes, verifyOptions.scopes);
    return { kind, claims, binding, scopes, authorizationDetails: authorizationDetailsOf(claims) };
  }

  async function toError(error: unknown, requestScheme: 'Bearer' | 'DPoP' | undefined, required: VerifyOptions): Promise<ResourceServerError> {
    const code: ErrorCode = error instanceof VerificationFailure ? error.code : 'ERR_INVALID_TOKEN';
    const cause = error instanceof VerificationFailure ? error.cause : error;
    const scheme = challengeScheme(code, requestScheme);
    const nonce = nonces && scheme !== 'Bearer' ? await currentNonce() : undefined;
    return new ResourceServerError(code, {
      scheme, algs, realm,
      ...(code === 'ERR_INSUFFICIENT_SCOPE' && required.scopes ? { scope: required.scopes } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
    }, { cause });
  }

  async function currentNonce(): Promise<string | undefined> {
    try {
      return await nonces!.current();
    } catch {
      return undefined;
    }
  }

  return {
    options,
    async verify(request, verifyOptions = {}): Promise<VerifiedAccess> {
      const requestScheme: { value?: 'Bearer' | 'DPoP' } = {};
      let verified: Awaited<ReturnType<typeof verifyRequest>>;
      try {
        verified = await verifyRequest(request, requestScheme, verifyOptions);
      } catch (error) {
        throw await toError(error, requestScheme.value, verifyOptions);
      }
      // The predicate is the API's code: its own exceptions are its own, not turned into 401s.
      let matchedDetails;
      try {
        matchedDetails = matchAuthorizationDetails(verified.authorizationDetails, verifyOptions.authorizationDetails);
      } catch (error) {
        if (!(error instanceof VerificationFailure)) throw error;
        throw await toError(error, requestScheme.value, verifyOptions);
      }
      const responseHeaders: Record<string, string> = {};
      if (nonces && verified.binding.kind === 'dpop') {
        const nonce = await currentNonce();
        if (nonce !== undefined) responseHeaders['dpop-nonce'] = nonce;
      }
      return {
        token: verified.kind,
        claims: verified.claims,
        scopes: verified.scopes,
        authorizationDetails: verified.authorizationDetails,
        matchedDetails,
        binding: verified.binding,
        responseHeaders,
      };
    },
    errorResponse(error) {
      const headers = new Headers();
      for (const [name, value] of Object.entries(error.headers)) if (value !== undefined) headers.set(name, value);
      return new Response(null, { status: error.status, headers });
    },
  };
}

/** Which challenge answers an error: the scheme the client should use next (RFC 9449 §7.1). */
function challengeScheme(code: ErrorCode, requestScheme: 'Bearer' | 'DPoP' | undefined): ChallengeScheme {
  if (code === 'ERR_MISSING_TOKEN' || code === 'ERR_INVALID_REQUEST') return 'both';
  if (code.startsWith('ERR_DPOP_')) return 'DPoP';
  if (code.startsWith('ERR_CERTIFICATE_')) return 'Bearer';
  // Sent with the wrong scheme: the challenge names the one the token needs.
  if (code === 'ERR_WRONG_SCHEME') return requestScheme === 'Bearer' ? 'DPoP' : 'Bearer';
  return requestScheme ?? 'both';
}

function validateOptions(options: ResourceServerOptions): void {
  const problem = (what: string) => new TypeError(`createResourceServer: ${what}`);
  if (typeof options?.issuer !== 'string' || !URL.canParse(options.issuer)) throw problem('issuer must be a URL');
  if (typeof options.audience !== 'string' || options.audience === '') throw problem('audience is required');
  if (options.jwks && !Array.isArray(options.jwks.keys)) throw problem('jwks must be a JWK Set ({ keys: [...] })');
  if (options.jwksUri !== undefined && !URL.canParse(options.jwksUri)) throw problem('jwksUri must be a URL');
  if (options.publicUrl !== undefined && !URL.canParse(options.publicUrl)) throw problem('publicUrl must be a URL');
  if (options.algorithms && (options.algorithms.length === 0 || !options.algorithms.every(isSupportedAlgorithm))) {
    throw problem('algorithms must be a non-empty list of PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519');
  }
  if (options.introspection && (typeof options.introspection.clientId !== 'string' || !options.introspection.privateKey)) {
    throw problem('introspection needs clientId and privateKey');
  }
  const nonNegative = (value: number | undefined, name: string) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw problem(`${name} must be a number ≥ 0`);
  };
  nonNegative(options.clockToleranceSeconds, 'clockToleranceSeconds');
  nonNegative(options.dpop?.iatWindowSeconds, 'dpop.iatWindowSeconds');
  nonNegative(options.introspection?.cacheSeconds, 'introspection.cacheSeconds');
  nonNegative(options.verifiedTokenCacheSize, 'verifiedTokenCacheSize');
}
