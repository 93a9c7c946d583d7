import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Logger } from '../shared/logger.ts';

/** Turns oidc-provider's events into audit events and log lines. Credentials never leave here. */
export function auditProviderEvents(provider: Provider, audit: AuditLog, logger: Logger): void {
  const who = (ctx: KoaContextWithOIDC) => ({
    clientId: ctx.oidc?.client?.clientId,
    subject: ctx.oidc?.session?.accountId ?? ctx.oidc?.entities?.Account?.accountId,
    ip: ctx.ip,
  });
  const failure = (type: string) => (ctx: KoaContextWithOIDC, err: Error & { error?: string; error_description?: string; status?: number }) => {
    audit.recordInBackground({
      type, outcome: 'failure', ...who(ctx),
      details: { error: err.error ?? 'server_error', description: err.error_description, route: ctx.oidc?.route },
    });
  };

  provider.on('grant.success', (ctx) => {
    audit.recordInBackground({
      type: 'token.issued', outcome: 'success', ...who(ctx),
      details: { grantType: ctx.oidc.params?.grant_type, grantId: ctx.oidc.entities?.Grant?.jti ?? ctx.oidc.entities?.AuthorizationCode?.grantId },
    });
  });
  provider.on('grant.error', failure('token.error'));
  provider.on('authorization.error', failure('authorization.error'));
  provider.on('pushed_authorization_request.error', failure('par.error'));
  provider.on('introspection.error', failure('introspection.error'));
  provider.on('revocation.error', failure('revocation.error'));
  provider.on('userinfo.error', failure('userinfo.error'));
  provider.on('end_session.error', failure('end_session.error'));
  provider.on('jwks.error', failure('jwks.error'));
  provider.on('discovery.error', failure('discovery.error'));
  provider.on('authorization.success', (ctx) => {
    audit.recordInBackground({ type: 'authorization.success', outcome: 'success', ...who(ctx) });
  });
  provider.on('grant.revoked', (ctx, grantId) => {
    audit.recordInBackground({ type: 'grant.revoked', outcome: 'success', ...who(ctx), details: { grantId } });
  });
  provider.on('end_session.success', (ctx) => {
    audit.recordInBackground({ type: 'session.ended', outcome: 'success', ...who(ctx) });
  });
  provider.on('server_error', (ctx, err) => {
    // The client sees only `server_error`; the cause goes to the log (redacted) and the audit log.
    logger.error('unexpected error', { route: ctx.oidc?.route, path: ctx.path, err });
    failure('server.error')(ctx, err);
  });
}
