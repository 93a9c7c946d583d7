/** Which claims each OpenID scope releases (OIDC Core 5.4). The consent issue adds labels. */
export const SCOPE_CLAIMS = {
  acr: null,
  auth_time: null,
  // amr rides with openid so every ID token says how the person signed in (RFC 8176).
  openid: ['sub', 'amr'],
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username',
    'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
  address: ['address'],
  // OpenID Connect for Identity Assurance: only through the claims parameter, never by a scope.
  verified_claims: null,
} as const satisfies Record<string, readonly string[] | Record<string, null> | null>;

/**
 * Authentication assurance (`acr`), NIST SP 800-63B levels. Password sign-in reaches AAL1; the
 * identity issue adds the credentials for AAL2 and AAL3.
 */
export const ACR = { aal1: 'urn:sekisho:aal1', aal2: 'urn:sekisho:aal2', aal3: 'urn:sekisho:aal3' } as const;
export const ACR_VALUES = Object.values(ACR);
