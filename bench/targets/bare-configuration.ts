/**
 * The baseline's configuration is Sekisho's own: `buildFapiConfiguration` from
 * packages/server/src/protocol/provider.ts, built from the same parsed Config, with no adapter (so
 * oidc-provider's in-memory one is used) and an in-memory findAccount. What "bare" leaves out is
 * exactly what the comparison is about: the database, the replay store, the audit log and
 * Sekisho's own middleware.
 */
import type { Configuration } from 'oidc-provider';
import { buildFapiConfiguration, type FapiConfigurationDeps } from '../../packages/server/src/protocol/provider.ts';

export type BareDeps = Omit<FapiConfigurationDeps, 'adapter'>;

export function bareConfiguration(deps: BareDeps): Configuration {
  return buildFapiConfiguration(deps);
}
