-- Sekisho's record of each grant, beside oidc-provider's Grant (same id, which clients see as
-- grant_id): how long the person allowed it (once or ongoing, until when), which notice version
-- they agreed to, what it holds now, and how it ended. oidc-provider's Grant row is deleted when a
-- grant is revoked and purged when it expires; this row stays, so "My consents" keeps showing
-- ended grants. The legal record of each decision is the consent ledger, not this table.
CREATE TABLE consent_grants (
  id              text        PRIMARY KEY,
  account_id      text        NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  client_id       text        NOT NULL,
  duration        text        NOT NULL CHECK (duration IN ('once', 'ongoing')),
  status          text        NOT NULL CHECK (status IN ('active', 'used', 'revoked', 'expired')),
  parts           jsonb       NOT NULL,             -- what the grant allows now (the ledger's ConsentScope shape)
  notice_version  integer,                          -- the client's notice version agreed to (null: the client has none)
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,                      -- chosen by the person; null for one-time grants until used
  used_at         timestamptz,                      -- a one-time grant: when its token was issued
  ended_at        timestamptz,
  ended_by        text,                             -- 'subject', 'client' (Grant Management API), 'admin', 'reuse'
  end_reason      text
);
CREATE INDEX consent_grants_account ON consent_grants (account_id, created_at DESC);
-- The latest active grant of a person for a client (a consent remembered across sign-ins), and
-- the sweep that records expiries.
CREATE INDEX consent_grants_active ON consent_grants (account_id, client_id, created_at DESC) WHERE status = 'active';
CREATE INDEX consent_grants_expiry ON consent_grants (expires_at) WHERE status = 'active';

-- Grants given before this table existed: recorded as ongoing and active, with what they hold.
INSERT INTO consent_grants (id, account_id, client_id, duration, status, parts, created_at, expires_at)
SELECT m.id, m.payload->>'accountId', m.payload->>'clientId', 'ongoing', 'active',
  jsonb_build_object(
    'scopes', to_jsonb(string_to_array(coalesce(m.payload->'openid'->>'scope', ''), ' ')),
    'claims', coalesce(m.payload->'openid'->'claims', '[]'::jsonb),
    'resources', coalesce((SELECT jsonb_object_agg(r.k, to_jsonb(string_to_array(r.v, ' '))) FROM jsonb_each_text(m.payload->'resources') AS r(k, v)), '{}'::jsonb),
    'authorizationDetails', coalesce(m.payload->'rar', '[]'::jsonb)),
  coalesce(to_timestamp((m.payload->>'iat')::bigint), now()), m.expires_at
FROM oidc_models m JOIN accounts a ON a.id = m.payload->>'accountId'
WHERE m.model = 'Grant'
ON CONFLICT (id) DO NOTHING;
