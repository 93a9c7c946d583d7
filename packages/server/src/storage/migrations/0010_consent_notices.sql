-- Consent notices (ISO/IEC 29184 privacy notices): what a client says about itself and about what
-- it does with the data, one immutable row per version. The consent ledger names the version a
-- person saw (notice_version = 'client_id@version'), so a version is never changed or removed.
-- No foreign key to clients: a notice must outlive a removed client, as the records naming it do.
CREATE TABLE consent_notices (
  client_id     text        NOT NULL,
  version       integer     NOT NULL CHECK (version >= 1),
  content       jsonb       NOT NULL,             -- the validated notice (consent/notices.ts)
  content_hash  text        NOT NULL,             -- SHA-256 of the content's canonical JSON
  published_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, version)
);

-- Immutable in the database itself: a new version is a new row; UPDATE, DELETE and TRUNCATE fail.
CREATE FUNCTION consent_notices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_notices is immutable: publish a new version instead';
END;
$$;
CREATE TRIGGER consent_notices_immutable BEFORE UPDATE OR DELETE ON consent_notices
  FOR EACH ROW EXECUTE FUNCTION consent_notices_immutable();
CREATE TRIGGER consent_notices_no_truncate BEFORE TRUNCATE ON consent_notices
  FOR EACH STATEMENT EXECUTE FUNCTION consent_notices_immutable();
