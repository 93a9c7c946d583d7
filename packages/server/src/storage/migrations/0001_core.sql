-- Protocol state kept by oidc-provider (sessions, interactions, codes, request_uris, tokens,
-- grants, replay jtis). Single-use rows are consumed by one UPDATE ... WHERE consumed_at IS NULL.
CREATE TABLE oidc_models (
  model       text        NOT NULL,
  id          text        NOT NULL,
  payload     jsonb       NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_models_grant_id ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_models_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

-- Registered clients (RFC 7591 metadata as validated at registration).
CREATE TABLE clients (
  client_id  text        PRIMARY KEY,
  metadata   jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Signing keys. The private JWK is encrypted with the key-encryption key (AES-256-GCM).
-- A key with retired_at set no longer signs; it stays published until purge_after.
CREATE TABLE signing_keys (
  kid           text        PRIMARY KEY,
  alg           text        NOT NULL,
  public_jwk    jsonb       NOT NULL,
  private_jwk   text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  retired_at    timestamptz,
  purge_after   timestamptz
);

-- Server-wide secrets every instance shares (cookie keys, DPoP nonce secret), encrypted like keys.
CREATE TABLE server_secrets (
  name       text        PRIMARY KEY,
  value      text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  id            text        PRIMARY KEY,
  username      text        NOT NULL UNIQUE,
  password_hash text        NOT NULL,
  claims        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Append-only security event log. Updates and deletes are refused by a trigger.
CREATE TABLE audit_events (
  id          bigserial   PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  type        text        NOT NULL,
  outcome     text        NOT NULL,
  client_id   text,
  subject     text,
  ip          text,
  details     jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_events_type ON audit_events (type, occurred_at);
CREATE INDEX audit_events_subject ON audit_events (subject, occurred_at) WHERE subject IS NOT NULL;

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
