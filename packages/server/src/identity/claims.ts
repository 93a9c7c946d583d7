import type { Account } from './accounts.ts';

/** The claims oidc-provider may release for an account; it filters them by scope and `claims`. */
export function accountClaims(account: Account): Record<string, unknown> {
  return { ...account.claims, updated_at: Math.floor(account.updatedAt.getTime() / 1000) };
}
