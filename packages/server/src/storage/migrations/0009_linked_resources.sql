-- Linked resources: what the bank or health-record service knows a person holds (their bank
-- accounts, their FHIR Patient records), registered by the operator. The consent screen offers
-- them as choices for authorization_details (RFC 9396): "which accounts", "which patient". The
-- consent screen, forms and grants name one by its random id, never by its ref (an account number).
CREATE TABLE linked_resources (
  id          text        PRIMARY KEY,
  account_id  text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind        text        NOT NULL CHECK (kind ~ '^[a-z_]{1,50}$'),  -- bank_account | fhir_patient …
  ref         text        NOT NULL CHECK (length(ref) BETWEEN 1 AND 200),    -- the holder's own identifier ("0001-001-1234567", a Patient id)
  label       text        NOT NULL CHECK (length(label) BETWEEN 1 AND 100),  -- what the person sees ("普通 ****4567 (Main)")
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (account_id, kind, ref)
);
-- Lookups by (account_id, kind) use the index of the UNIQUE constraint above (its leading
-- columns), so no second index is created.
