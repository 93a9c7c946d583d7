import type Provider from 'oidc-provider';
import type { ClientsRepository } from '../storage/clients-repo.ts';
import { applyFapiClientPolicy, ClientMetadataError } from './client-policy.ts';

export class ClientRegistrationError extends Error {
  override name = 'ClientRegistrationError';
  readonly error: string;
  constructor(error: string, description: string) {
    super(description);
    this.error = error;
  }
}

/**
 * Registers a client: the FAPI policy first (naming the field at fault), then oidc-provider's own
 * metadata validation, then one insert (an existing client_id is refused, not overwritten).
 */
export async function registerClient(provider: Provider, clients: ClientsRepository, input: Record<string, unknown>) {
  let metadata;
  try {
    metadata = applyFapiClientPolicy(input);
  } catch (err) {
    if (err instanceof ClientMetadataError) throw new ClientRegistrationError(err.error, err.message);
    throw err;
  }
  try {
    await (provider.Client as unknown as { validate(m: object): Promise<void> }).validate(metadata);
  } catch (err) {
    const e = err as { error?: string; error_description?: string; message: string };
    throw new ClientRegistrationError(e.error ?? 'invalid_client_metadata', e.error_description ?? e.message);
  }
  if (!(await clients.insert(metadata))) throw new ClientRegistrationError('invalid_client_metadata', `client_id: ${metadata.client_id} is already registered`);
  return metadata;
}
