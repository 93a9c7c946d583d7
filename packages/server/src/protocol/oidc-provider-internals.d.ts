// oidc-provider ships types for its public API only; provider.ts also uses the DPoP nonce helper,
// so that the grant management endpoint accepts exactly the nonces the token endpoint hands out.
declare module 'oidc-provider/lib/helpers/challenge.js' {
  export default class ServerChallenge {
    constructor(secret: Uint8Array, info: string);
    nextChallenge(): string;
    checkChallenge(challenge: string): boolean;
  }
}
