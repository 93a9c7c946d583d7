-- Identity: passkeys first, password + TOTP as a fallback, recovery codes, e-mail verification,
-- sign-in history, throttling and the development mailbox.

-- A passkey-only account has no password.
ALTER TABLE accounts ALTER COLUMN password_hash DROP NOT NULL;
-- Lower-cased; unique among accounts that have one.
ALTER TABLE accounts ADD COLUMN email text;
ALTER TABLE accounts ADD COLUMN email_verified_at timestamptz;
CREATE UNIQUE INDEX accounts_email ON accounts (email) WHERE email IS NOT NULL;

-- WebAuthn credentials (passkeys). id is the credential ID, base64url.
CREATE TABLE passkeys (
  id            text        PRIMARY KEY,
  account_id    text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name          text        NOT NULL,
  public_key    text        NOT NULL,              -- COSE public key, base64url
  sign_count    bigint      NOT NULL DEFAULT 0,
  transports    jsonb       NOT NULL DEFAULT '[]'::jsonb,
  device_type   text        NOT NULL,              -- singleDevice | multiDevice (synced)
  backed_up     boolean     NOT NULL,
  aaguid        text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz
);
CREATE INDEX passkeys_account ON passkeys (account_id);

-- WebAuthn challenges: single use, consumed by one UPDATE ... WHERE consumed_at IS NULL.
CREATE TABLE webauthn_challenges (
  id           text        PRIMARY KEY,           -- the challenge itself, base64url
  purpose      text        NOT NULL,              -- registration | authentication
  account_id   text,                              -- set for registration and step-up
  binding      text        NOT NULL,              -- the interaction or page session it belongs to
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz
);
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);

-- TOTP (RFC 6238). The seed is encrypted with the key-encryption key. last_step stops a code
-- being used twice.
CREATE TABLE totp_credentials (
  account_id    text        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  secret        text        NOT NULL,
  confirmed_at  timestamptz,
  last_step     bigint      NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes, stored as SHA-256 of the code (the codes are random, 50+ bits each).
CREATE TABLE recovery_codes (
  account_id  text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  code_hash   text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  used_at     timestamptz,
  PRIMARY KEY (account_id, code_hash)
);

-- One-time e-mail codes and links (sign-up, recovery, e-mail change). The code is stored hashed;
-- attempts are counted so a 6-digit code cannot be guessed.
CREATE TABLE email_challenges (
  id           text        PRIMARY KEY,
  purpose      text        NOT NULL,              -- signup | recovery | email-change
  email        text        NOT NULL,
  account_id   text,
  code_hash    text        NOT NULL,
  attempts     integer     NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz
);
CREATE INDEX email_challenges_expires_at ON email_challenges (expires_at);

-- Sign-in history a person can read (and the source of new-device alerts).
CREATE TABLE login_history (
  id          bigserial   PRIMARY KEY,
  account_id  text        REFERENCES accounts (id) ON DELETE CASCADE,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  ip          text,
  user_agent  text,
  device_id   text,
  method      text        NOT NULL,              -- passkey | password | password+totp | recovery-code ...
  result      text        NOT NULL,              -- success | failure | locked
  acr         text
);
CREATE INDEX login_history_account ON login_history (account_id, occurred_at DESC);
CREATE INDEX login_history_device ON login_history (account_id, device_id) WHERE result = 'success';

-- What Sekisho knows about each sign-in session (oidc-provider's Session, by its uid).
CREATE TABLE session_details (
  session_uid  text        PRIMARY KEY,
  account_id   text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  ip           text,
  user_agent   text,
  device_id    text,
  method       text        NOT NULL,
  acr          text
);
CREATE INDEX session_details_account ON session_details (account_id);
CREATE INDEX oidc_models_session_account ON oidc_models ((payload->>'accountId')) WHERE model = 'Session';

-- Failed-attempt counters for throttling (per account, per IP). Rows expire.
CREATE TABLE throttle (
  key           text        PRIMARY KEY,
  failures      integer     NOT NULL DEFAULT 0,
  window_start  timestamptz NOT NULL DEFAULT now(),
  locked_until  timestamptz,
  expires_at    timestamptz NOT NULL
);

-- Mail Sekisho sent. Without SMTP (development) this is the mailbox the operator reads from
-- the CLI; with SMTP it only records delivery.
CREATE TABLE mail_outbox (
  id          bigserial   PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  recipient   text        NOT NULL,
  subject     text        NOT NULL,
  body        text        NOT NULL,
  transport   text        NOT NULL,              -- smtp | mailbox
  sent_at     timestamptz,
  error       text
);
