import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables created by migrations/. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = Record<string, unknown>> = ColumnType<T, string, string>;

export interface OidcModelsTable {
  model: string;
  id: string;
  payload: Json;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: ColumnType<Date | null, Date | null, Date | null>;
  consumed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface ClientsTable {
  client_id: string;
  metadata: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: Json;
  private_jwk: string;
  created_at: Timestamp;
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  purge_after: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface ServerSecretsTable {
  name: string;
  value: string;
  created_at: Timestamp;
}

export interface AccountsTable {
  id: string;
  username: string;
  password_hash: string;
  claims: Json;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditEventsTable {
  id: Generated<string>;
  occurred_at: Timestamp;
  type: string;
  outcome: string;
  client_id: string | null;
  subject: string | null;
  ip: string | null;
  details: Json;
}

export interface ReplayJtisTable {
  id: string;
  expires_at: ColumnType<Date, Date, Date>;
}

export interface SchemaMigrationsTable {
  version: string;
  applied_at: Timestamp;
}

export interface Database {
  oidc_models: OidcModelsTable;
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
  server_secrets: ServerSecretsTable;
  accounts: AccountsTable;
  audit_events: AuditEventsTable;
  replay_jtis: ReplayJtisTable;
  schema_migrations: SchemaMigrationsTable;
}
