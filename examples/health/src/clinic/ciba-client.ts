import { createClientKey, type ClientPrivateJwk } from '@sekisho/example-kit/client-key';
import { createDiscovery } from '@sekisho/example-kit/discovery';
import { withDpopNonceRetry } from '@sekisho/example-kit/dpop-nonce';
import { oauthErrorCode } from '@sekisho/example-kit/error-code';
import { checkUrl, insecureFor } from '@sekisho/example-kit/loopback';
import * as oauth from 'oauth4webapi';
import type { RecordType } from '../fhir.ts';
import { smartScopes } from '../health-api/record-access.ts';

export type { ClientPrivateJwk };

export interface CibaClientOptions {
  issuer: string;
  clientId: string;
  privateJwk: ClientPrivateJwk;
  /** The health API's resource identifier (RFC 8707 `resource`, the token's audience). */
  healthApiAudience: string;
  /** `requested_expiry` in seconds: how long the patient has to answer. */
  requestedExpiry: number;
  /** Aborts every request when the app closes. */
  signal: AbortSignal;
}

export interface StartInput {
  /** The patient number the doctor typed: CIBA `login_hint`. */
  loginHint: string;
  bindingMessage: string;
  resourceTypes: readonly RecordType[];
  /** Ping mode only: the bearer token Sekisho will present at our notification endpoint. */
  clientNotificationToken?: string;
}

export interface Started { authReqId: string; expiresIn: number; interval?: number }

export type TokenOutcome =
  | { kind: 'pending' }
  | { kind: 'slow_down' }
  | { kind: 'tokens'; accessToken: string; authorizationDetails: oauth.AuthorizationDetails[]; scopes: string[]; actor?: oauth.JsonValue }
  | { kind: 'failed'; reason: 'denied' | 'expired' | 'error'; error: string };

/** Why a backchannel request was refused: the OAuth error code, or `unreachable` / `invalid_response`. */
export class CibaStartError extends Error {
  readonly error: string;
  constructor(error: string) { super(`backchannel authentication request failed: ${error}`); this.error = error; }
}

/** Sekisho's RAR type for reading health records; the patient is chosen on the phone, not here. */
export const FHIR_RECORD_ACCESS = 'fhir_record_access';

/** What the clinic asks for: Patient (name, birth date) and the chosen types, to read and search. */
export function requestedDetails(types: readonly RecordType[]) {
  return [{ type: FHIR_RECORD_ACCESS, resource_types: ['Patient', ...types], actions: ['read', 'search'] }];
}

/**
 * The scopes that go with the details: read and search on the same types (SMART v2 `.rs`). The
 * health API requires both, the scope for the interaction and the detail for the patient.
 */
export function requestedScopes(types: readonly RecordType[]): string {
  return ['openid', ...(['Patient', ...types] as const).map((t) => smartScopes(t, 'read').v2)].join(' ');
}

/**
 * The clinic as a FAPI-CIBA client, all through oauth4webapi: discovery, `private_key_jwt`, the
 * request parameters in a signed request object, the CIBA grant with DPoP.
 */
export function createCibaClient(options: CibaClientOptions) {
  const issuer = checkUrl('issuer', options.issuer);
  const { privateKey, clientAuth } = createClientKey(options.privateJwk);
  const client: oauth.Client = { client_id: options.clientId };
  const server = createDiscovery(issuer, {
    endpoints: ['backchannel_authentication_endpoint', 'token_endpoint'],
    signal: () => options.signal,
    missing: () => new CibaStartError('invalid_response'),
  });

  return {
    /** A fresh DPoP key for one request: its tokens are bound to it and die with it. */
    async newDpop(): Promise<oauth.DPoPHandle> {
      return oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    },

    /** Sends the backchannel authentication request; throws CibaStartError. */
    async start(input: StartInput): Promise<Started> {
      let as: oauth.AuthorizationServer;
      try { as = await server(); } catch (err) { throw err instanceof CibaStartError ? err : new CibaStartError('unreachable'); }
      const parameters = new URLSearchParams({
        scope: requestedScopes(input.resourceTypes),
        login_hint: input.loginHint,
        binding_message: input.bindingMessage,
        requested_expiry: String(options.requestedExpiry),
        resource: options.healthApiAudience,
        authorization_details: JSON.stringify(requestedDetails(input.resourceTypes)),
      });
      if (input.clientNotificationToken) parameters.set('client_notification_token', input.clientNotificationToken);
      try {
        const auth = await clientAuth();
        // issueRequestObject: iss = client_id, aud = issuer, iat, nbf, exp (60 s later), jti,
        // typ oauth-authz-req+jwt, signed with the client key. requested_expiry becomes a JSON number.
        const request = await oauth.issueRequestObject(as, client, parameters, await privateKey(), {
          [oauth.modifyAssertion]: (_header, payload) => { payload.requested_expiry = options.requestedExpiry; },
        });
        const response = await oauth.backchannelAuthenticationRequest(as, client, auth, { request }, {
          signal: options.signal, ...insecureFor(as.backchannel_authentication_endpoint),
        });
        const result = await oauth.processBackchannelAuthenticationResponse(as, client, response);
        return { authReqId: result.auth_req_id, expiresIn: result.expires_in, ...(result.interval ? { interval: result.interval } : {}) };
      } catch (err) {
        throw new CibaStartError(errorCode(err));
      }
    },

    /** One token request for `authReqId` (one retry when Sekisho asks for a DPoP nonce). */
    async token(authReqId: string, dpop: oauth.DPoPHandle): Promise<TokenOutcome> {
      let tokens: oauth.TokenEndpointResponse;
      try {
        tokens = await withDpopNonceRetry(async () => {
          const as = await server();
          const response = await oauth.backchannelAuthenticationGrantRequest(as, client, await clientAuth(), authReqId, {
            DPoP: dpop, signal: options.signal, ...insecureFor(as.token_endpoint),
          });
          return oauth.processBackchannelAuthenticationGrantResponse(as, client, response);
        });
      } catch (err) {
        const error = errorCode(err);
        if (error === 'authorization_pending') return { kind: 'pending' };
        if (error === 'slow_down') return { kind: 'slow_down' };
        if (error === 'access_denied') return { kind: 'failed', reason: 'denied', error };
        if (error === 'expired_token') return { kind: 'failed', reason: 'expired', error };
        return { kind: 'failed', reason: 'error', error };
      }
      // A bearer token would work for whoever holds it; the health API refuses it anyway.
      if (tokens.token_type !== 'dpop') return { kind: 'failed', reason: 'error', error: 'token_not_dpop_bound' };
      // RFC 8693 `act` in the ID token: a delegate (a guardian) approved for the patient. The
      // access token says so too, but it is the API's to read (RFC 9068 §6), not ours.
      const actor = oauth.getValidatedIdTokenClaims(tokens)?.act;
      return {
        kind: 'tokens', accessToken: tokens.access_token,
        authorizationDetails: Array.isArray(tokens.authorization_details) ? tokens.authorization_details : [],
        // The token response's scope: what the access token carries for the health API (the
        // person may have left a record type's scope unticked on their phone).
        scopes: typeof tokens.scope === 'string' ? tokens.scope.split(' ') : [],
        ...(actor !== undefined && actor !== null ? { actor } : {}),
      };
    },
  };
}
export type CibaClient = ReturnType<typeof createCibaClient>;

/** An error as a short code safe to show and log: never a description from the server or a token. */
function errorCode(err: unknown): string {
  return err instanceof CibaStartError ? err.error : oauthErrorCode(err);
}
