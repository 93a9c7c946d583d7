import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables created by migrations/. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = Record<string, unknown>> = ColumnType<T, string, string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

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
  password_hash: string | null;
  claims: Json;
  email: string | null;
  email_verified_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PasskeysTable {
  id: string;
  account_id: string;
  name: string;
  public_key: string;
  sign_count: ColumnType<string, number | undefined, number>;
  transports: Json<string[]>;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  aaguid: string | null;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
  suspended_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface WebauthnChallengesTable {
  id: string;
  purpose: 'registration' | 'authentication';
  account_id: string | null;
  binding: string;
  expires_at: ColumnType<Date, Date, Date>;
  consumed_at: NullableTimestamp;
}

export interface TotpCredentialsTable {
  account_id: string;
  secret: string;
  confirmed_at: NullableTimestamp;
  last_step: ColumnType<string, number | undefined, number>;
  created_at: Timestamp;
}

export interface RecoveryCodesTable {
  account_id: string;
  code_hash: string;
  created_at: Timestamp;
  used_at: NullableTimestamp;
}

export interface EmailChallengesTable {
  id: string;
  purpose: 'signup' | 'recovery' | 'email-change';
  email: string;
  account_id: string | null;
  code_hash: string;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  expires_at: ColumnType<Date, Date, Date>;
  consumed_at: NullableTimestamp;
}

export interface LoginHistoryTable {
  id: Generated<string>;
  account_id: string | null;
  occurred_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
  device_id: string | null;
  method: string;
  result: 'success' | 'failure' | 'locked';
  acr: string | null;
}

export interface SessionDetailsTable {
  session_uid: string;
  account_id: string;
  created_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
  device_id: string | null;
  method: string;
  acr: string | null;
}

export interface ThrottleTable {
  key: string;
  failures: number;
  window_start: Timestamp;
  locked_until: NullableTimestamp;
  expires_at: ColumnType<Date, Date, Date>;
}

export interface MailOutboxTable {
  id: Generated<string>;
  created_at: Timestamp;
  recipient: string;
  subject: string;
  body: string;
  transport: 'smtp' | 'mailbox';
  sent_at: NullableTimestamp;
  error: string | null;
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

export interface IdentityVerificationsTable {
  id: string;
  account_id: string;
  level: 'ial1' | 'ial2' | 'ial3';
  trust_framework: string;
  assurance_level: string | null;
  verification_process: string | null;
  method: string;
  evidence: Json<Array<Record<string, unknown>>>;
  verified_claims: Json;
  verifier: string;
  verified_at: ColumnType<Date, Date | string, Date | string>;
  recorded_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export interface DeletedAccountsTable {
  id: string;
  deleted_at: Timestamp;
  reason: 'self' | 'admin';
}

export interface ReplayJtisTable {
  id: string;
  expires_at: ColumnType<Date, Date, Date>;
}

export interface SchemaMigrationsTable {
  version: string;
  applied_at: Timestamp;
}

export interface ConsentRecordsTable {
  seq: Generated<string>;
  id: string;
  recorded_at: Timestamp;
  subject: string;
  actor: string | null;
  client_id: string;
  grant_id: string | null;
  action: 'create' | 'merge' | 'replace' | 'revoke' | 'expire';
  decision: 'approved' | 'partial' | 'denied' | 'revoked' | 'expired';
  channel: 'web' | 'ciba' | 'app' | 'api' | 'admin';
  notice_version: string | null;
  shown_hash: string | null;
  requested: Json;
  granted: Json;
  context: Json;
  retain_until: Timestamp;
  prev_hash: string;
  hash: string;
}

export interface ConsentGrantsTable {
  id: string;
  account_id: string;
  client_id: string;
  duration: 'once' | 'ongoing';
  status: 'active' | 'used' | 'revoked' | 'expired';
  parts: Json;
  notice_version: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  expires_at: NullableTimestamp;
  used_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  ended_by: string | null;
  end_reason: string | null;
  /** The delegate who gave the grant for the account (migration 0013); null: the person themself. */
  actor: Generated<string | null>;
  delegation_id: Generated<string | null>;
}

/** Written once: the trigger of migration 0010 refuses UPDATE, DELETE and TRUNCATE. */
type WriteOnce<S, I = S> = ColumnType<S, I, never>;

export interface ConsentNoticesTable {
  client_id: WriteOnce<string>;
  version: WriteOnce<number>;
  content: WriteOnce<Record<string, unknown>, string>;
  content_hash: WriteOnce<string>;
  published_at: WriteOnce<Date, Date | string | undefined>;
}

export interface LinkedResourcesTable {
  id: string;
  account_id: string;
  kind: string;
  ref: string;
  label: string;
  created_at: Timestamp;
}

export interface AuthenticationDevicesTable {
  id: string;
  account_id: string;
  name: string;
  secret_hash: string;
  push_endpoint: string | null;
  push_p256dh: string | null;
  push_auth: string | null;
  created_at: Timestamp;
  last_seen_at: NullableTimestamp;
  removed_at: NullableTimestamp;
}

export interface CibaRequestsTable {
  id: string;
  auth_req_id: string;
  client_id: string;
  subject: string;
  binding_message: string | null;
  status: ColumnType<'pending' | 'approved' | 'denied', 'pending' | 'approved' | 'denied' | undefined>;
  decided_by: string | null;
  decided_device: string | null;
  decided_at: NullableTimestamp;
  grant_id: string | null;
  expires_at: ColumnType<Date, Date, Date>;
  poll_interval: number;
  next_poll_at: NullableTimestamp;
  created_at: Timestamp;
}

export interface CibaRequestApproversTable {
  request_id: string;
  account_id: string;
  delegation_id: string | null;
}

export interface CibaUserCodesTable {
  account_id: string;
  code_hash: string;
  updated_at: Timestamp;
}

export interface DelegationsTable {
  id: string;
  principal: string;
  delegate: string;
  relationship: 'parent' | 'legal_guardian' | 'appointed_proxy' | 'caregiver';
  evidence: string;
  verified_by: string;
  verified_at: ColumnType<Date, Date, Date>;
  constraints: ColumnType<Record<string, unknown>, string, string>;
  valid_from: ColumnType<Date, Date, Date>;
  valid_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  status: ColumnType<'active' | 'ended', 'active' | 'ended' | undefined>;
  ended_at: NullableTimestamp;
  ended_by: string | null;
  end_reason: string | null;
  created_at: Timestamp;
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
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  totp_credentials: TotpCredentialsTable;
  recovery_codes: RecoveryCodesTable;
  email_challenges: EmailChallengesTable;
  login_history: LoginHistoryTable;
  session_details: SessionDetailsTable;
  throttle: ThrottleTable;
  mail_outbox: MailOutboxTable;
  identity_verifications: IdentityVerificationsTable;
  deleted_accounts: DeletedAccountsTable;
  consent_records: ConsentRecordsTable;
  consent_notices: ConsentNoticesTable;
  consent_grants: ConsentGrantsTable;
  linked_resources: LinkedResourcesTable;
  authentication_devices: AuthenticationDevicesTable;
  ciba_requests: CibaRequestsTable;
  ciba_request_approvers: CibaRequestApproversTable;
  ciba_user_codes: CibaUserCodesTable;
  delegations: DelegationsTable;
}
