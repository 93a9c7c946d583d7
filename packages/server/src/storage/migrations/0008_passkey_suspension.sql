-- A passkey whose signature counter went backwards (a copy of it is in use) is switched off until
-- its owner removes it; it no longer signs anyone in.
ALTER TABLE passkeys ADD COLUMN suspended_at timestamptz;
