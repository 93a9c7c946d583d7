-- Delegations: who may decide for whom (a parent for a child, a court-appointed guardian, an
-- appointed proxy, a caregiver), registered by an operator from evidence they checked. A CIBA
-- request for the principal goes to the delegate's devices; what a delegate can allow is bounded by
-- the constraints. An ended delegation (status or valid_until) stops new approvals at once.
CREATE TABLE delegations (
  id               text        PRIMARY KEY,
  principal        text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  delegate         text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  relationship     text        NOT NULL CHECK (relationship IN ('parent', 'legal_guardian', 'appointed_proxy', 'caregiver')),
  evidence         text        NOT NULL CHECK (length(evidence) BETWEEN 1 AND 500),  -- a reference to the document checked, never the document
  verified_by      text        NOT NULL CHECK (length(verified_by) BETWEEN 1 AND 200),
  verified_at      timestamptz NOT NULL,
  -- { scopes?: string[], authorizationDetailTypes?: string[], excludeSensitive?: boolean }: absent lists allow nothing of that kind
  constraints      jsonb       NOT NULL,
  valid_from       timestamptz NOT NULL,
  valid_until      timestamptz,
  status           text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
  ended_at         timestamptz,
  ended_by         text,
  end_reason       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  CHECK (principal <> delegate),
  CHECK (valid_until IS NULL OR valid_until > valid_from)
);
CREATE INDEX delegations_principal ON delegations (principal) WHERE status = 'active';
CREATE INDEX delegations_delegate ON delegations (delegate) WHERE status = 'active';

-- A grant a delegate gave for the principal names the delegate (the `act` claim of its tokens).
ALTER TABLE consent_grants ADD COLUMN actor text;
ALTER TABLE consent_grants ADD COLUMN delegation_id text;
