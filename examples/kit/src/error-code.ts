import * as oauth from 'oauth4webapi';

const TOKEN = /^[\x21-\x7e]{1,64}$/;
const safe = (code: string | undefined): string => (code && TOKEN.test(code) ? code : 'invalid_response');

/**
 * An error from an oauth4webapi call as a short code safe to show and log: the OAuth `error` when
 * it is a plain token (printable ASCII, at most 64 characters), `invalid_response` for an answer
 * that is not what the protocol says, `unreachable` for anything else (the network, a time limit,
 * the app closing). Never a description from the server, never a token.
 */
export function oauthErrorCode(err: unknown): string {
  if (err instanceof oauth.AuthorizationResponseError || err instanceof oauth.ResponseBodyError) return safe(err.error);
  if (err instanceof oauth.WWWAuthenticateChallengeError) return safe(err.cause[0]?.parameters.error);
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.UnsupportedOperationError) return 'invalid_response';
  return 'unreachable';
}
