-- Replay protection for JWT ids (client assertions, DPoP proofs, request objects): a narrow table
-- of its own, written by one multi-row INSERT ... ON CONFLICT per batch (see oidc-adapter.ts).
CREATE TABLE replay_jtis (
  id         text        PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX replay_jtis_expires_at ON replay_jtis (expires_at);
