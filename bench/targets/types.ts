/** What the load generator needs from a server under test, whatever it is built from. */
export interface BenchUser { username: string; password: string }

export interface BenchTarget {
  /** Short name used in tables and in the results file. */
  name: TargetName;
  issuer: string;
  /** Loopback origin the load generator connects to (the issuer's host is sent as Host). */
  origin: string;
  /** Registers client metadata through Sekisho's FAPI client policy and oidc-provider's validation. */
  registerClient(metadata: Record<string, unknown>): Promise<void>;
  createUser(): Promise<BenchUser>;
  close(): Promise<void>;
}

export type TargetName = 'bare' | 'pglite' | 'postgres';

/** The API client_credentials tokens are issued for, identical for every target. */
export const RESOURCE_SERVER = { identifier: 'https://api.bench.example', scopes: ['read'], accessTokenFormat: 'opaque' as const };

/** Claims every benchmark account carries (the same shape the test users have). */
export function benchClaims(username: string) {
  return { name: 'Hanako Yamada', given_name: 'Hanako', family_name: 'Yamada', email: `${username}@example.jp`, email_verified: true };
}
