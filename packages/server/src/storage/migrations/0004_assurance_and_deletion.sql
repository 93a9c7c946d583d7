-- Identity assurance (IAL) records and the register of deleted accounts.

-- How an account's identity was proven (NIST SP 800-63A levels), recorded with its evidence in the
-- shape OpenID Connect for Identity Assurance releases it (`verified_claims`). Several rows per
-- account: a later or stronger verification does not erase an earlier one; a withdrawn one (a
-- forged document) keeps its row with revoked_at set.
CREATE TABLE identity_verifications (
  id                    text        PRIMARY KEY,
  account_id            text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  level                 text        NOT NULL CHECK (level IN ('ial1', 'ial2', 'ial3')),
  trust_framework       text        NOT NULL,              -- jp_aml | de_aml | nist_800_63A ...
  assurance_level       text,                              -- within the trust framework, when it has levels
  verification_process  text,                              -- the verifier's reference, for audits and disputes
  method                text        NOT NULL,              -- check method: vpip | vcrypt | pipp | eid ...
  evidence              jsonb       NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(evidence) = 'array'),
  verified_claims       jsonb       NOT NULL CHECK (jsonb_typeof(verified_claims) = 'object'),
  verifier              text        NOT NULL,              -- who verified: an operator or organisation
  verified_at           timestamptz NOT NULL,
  recorded_at           timestamptz NOT NULL DEFAULT now(),
  revoked_at            timestamptz
);
CREATE INDEX identity_verifications_account ON identity_verifications (account_id);

-- Accounts that were deleted. Only the former id is kept (no personal data), so that audit events
-- and consent records naming it stay explainable after the account is gone.
CREATE TABLE deleted_accounts (
  id          text        PRIMARY KEY,
  deleted_at  timestamptz NOT NULL DEFAULT now(),
  reason      text        NOT NULL CHECK (reason IN ('self', 'admin'))
);
