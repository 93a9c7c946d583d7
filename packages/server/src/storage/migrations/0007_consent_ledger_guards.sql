-- Guards found in review:
-- One decision per consent screen: two Allow/Deny posts racing each other cannot both be recorded
-- (the loser is refused by this index, before its grant is saved).
CREATE UNIQUE INDEX consent_records_one_decision_per_interaction
  ON consent_records ((context->>'interaction')) WHERE context ? 'interaction';
-- A chain cannot fork: no two records link to the same previous one.
ALTER TABLE consent_records ADD CONSTRAINT consent_records_prev_hash_unique UNIQUE (prev_hash);
-- The row-level append-only trigger does not fire on TRUNCATE; this one does.
CREATE TRIGGER consent_records_no_truncate BEFORE TRUNCATE ON consent_records
  FOR EACH STATEMENT EXECUTE FUNCTION consent_records_append_only();
