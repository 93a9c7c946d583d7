-- CIBA (OpenID Connect Client-Initiated Backchannel Authentication): the person's authentication
-- devices and Sekisho's side of each backchannel request. oidc-provider keeps the request itself
-- (BackchannelAuthenticationRequest in oidc_models, keyed by auth_req_id); this is what the
-- device app lists and decides, who may decide it, and the polling pace (slow_down).

-- A phone (or any browser) bound to an account after a passkey sign-in. The device app carries a
-- random secret in a cookie; only its SHA-256 is stored. Removing a device (a lost phone) keeps
-- the row for the history and stops it at once: the secret matches nothing active.
CREATE TABLE authentication_devices (
  id              text        PRIMARY KEY,
  account_id      text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  secret_hash     text        NOT NULL UNIQUE,
  -- Web Push subscription (RFC 8030 / RFC 8291): the push service URL and the browser's keys.
  push_endpoint   text        CHECK (push_endpoint IS NULL OR length(push_endpoint) <= 2000),
  push_p256dh     text        CHECK (push_p256dh IS NULL OR length(push_p256dh) <= 200),
  push_auth       text        CHECK (push_auth IS NULL OR length(push_auth) <= 100),
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz,
  removed_at      timestamptz
);
CREATE INDEX authentication_devices_account ON authentication_devices (account_id) WHERE removed_at IS NULL;

-- One row per backchannel authentication request. `id` is what the device app sees; the
-- auth_req_id stays between the client and this server.
CREATE TABLE ciba_requests (
  id               text        PRIMARY KEY,
  auth_req_id      text        NOT NULL UNIQUE,
  client_id        text        NOT NULL,
  subject          text        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  binding_message  text,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
  decided_by       text,                     -- the account that decided (the person or a delegate)
  decided_device   text,
  decided_at       timestamptz,
  grant_id         text,
  expires_at       timestamptz NOT NULL,
  poll_interval    integer     NOT NULL CHECK (poll_interval BETWEEN 1 AND 600),
  next_poll_at     timestamptz,              -- a poll before this is answered slow_down
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ciba_requests_expiry ON ciba_requests (expires_at);

-- Who may decide a request: the person, and/or a delegate acting under a delegation.
CREATE TABLE ciba_request_approvers (
  request_id     text NOT NULL REFERENCES ciba_requests (id) ON DELETE CASCADE,
  account_id     text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  delegation_id  text,                       -- null: the person themself
  PRIMARY KEY (request_id, account_id)
);
CREATE INDEX ciba_request_approvers_account ON ciba_request_approvers (account_id);

-- A user_code (CIBA §7.1): a secret the person chose, so that only someone who knows it can make
-- their phone ring. Stored as a scrypt hash, like a password.
CREATE TABLE ciba_user_codes (
  account_id  text        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  code_hash   text        NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
