/** FAPI 2.0 SP 5.4.1 / N2: the only JWS algorithms accepted or used anywhere. */
export const FAPI_ALGS = ['PS256', 'ES256', 'EdDSA'] as const;
export const FAPI_AUTH_METHODS = ['private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'] as const;
