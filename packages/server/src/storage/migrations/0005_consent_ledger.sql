-- The consent ledger: one record per decision (approval, partial approval, denial, revocation,
-- expiry), never updated or deleted. Each record's hash covers its content and the previous
-- record's hash, so an edited, removed or reordered record breaks the chain from there on.
-- No foreign key to accounts: the law may require a record to outlive the account it names.
CREATE TABLE consent_records (
  seq             bigserial   PRIMARY KEY,          -- the chain's order
  id              text        NOT NULL UNIQUE,      -- the record's (and its receipt's) id
  recorded_at     timestamptz NOT NULL,
  subject         text        NOT NULL,             -- the person whose data it is (opaque account id)
  actor           text,                             -- who decided when not the subject (a delegate)
  client_id       text        NOT NULL,
  grant_id        text,
  action          text        NOT NULL CHECK (action IN ('create', 'merge', 'replace', 'revoke', 'expire')),
  decision        text        NOT NULL CHECK (decision IN ('approved', 'partial', 'denied', 'revoked', 'expired')),
  channel         text        NOT NULL CHECK (channel IN ('web', 'ciba', 'app', 'api', 'admin')),
  notice_version  text,                             -- the client's notice shown, as id@version
  shown_hash      text,                             -- SHA-256 of exactly what the screen showed
  requested       jsonb       NOT NULL,
  granted         jsonb       NOT NULL,
  context         jsonb       NOT NULL,             -- IP, user agent, acr, binding message …
  retain_until    timestamptz NOT NULL,
  prev_hash       text        NOT NULL,
  hash            text        NOT NULL UNIQUE
);
CREATE INDEX consent_records_subject ON consent_records (subject, seq DESC);
CREATE INDEX consent_records_grant ON consent_records (grant_id) WHERE grant_id IS NOT NULL;

-- Append-only in the database itself, not only by convention: an UPDATE or DELETE fails. (An
-- operator with the database owner's rights can still drop the trigger; the hash chain is what
-- makes that visible.)
CREATE FUNCTION consent_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_records is append-only';
END;
$$;
CREATE TRIGGER consent_records_append_only BEFORE UPDATE OR DELETE ON consent_records
  FOR EACH ROW EXECUTE FUNCTION consent_records_append_only();
