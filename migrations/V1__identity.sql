-- Identity: users, API keys and login throttling. Every constraint is named: the store maps
-- violated constraint names to domain errors (contacto-core/src/db/error.rs).

CREATE TABLE users (
    id             uuid        NOT NULL,
    email          text        NOT NULL,
    full_name      text        NOT NULL,
    phone          text,
    role           text        NOT NULL,
    password_hash  text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (id),
    -- Emails are stored lower-cased, which makes this unique constraint case-insensitive.
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_phone_key UNIQUE (phone),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email)),
    CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_full_name_length CHECK (char_length(full_name) BETWEEN 1 AND 200),
    CONSTRAINT users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    CONSTRAINT users_role_known CHECK (role IN ('customer', 'professional', 'merchant', 'admin')),
    CONSTRAINT users_password_hash_argon2id CHECK (password_hash LIKE '$argon2id$%')
);

CREATE TABLE api_keys (
    id            uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    name          text        NOT NULL,
    prefix        text        NOT NULL,
    -- SHA-256 of the secret. The secret carries 256 random bits, so a fast hash is enough: there
    -- is nothing to brute-force, and every API request can afford the lookup.
    secret_sha256 bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_user_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_secret_sha256_key UNIQUE (secret_sha256),
    CONSTRAINT api_keys_secret_sha256_length CHECK (octet_length(secret_sha256) = 32),
    CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);

CREATE INDEX api_keys_user_active_idx ON api_keys (user_id) WHERE revoked_at IS NULL;

-- Failed logins per account (lower-cased email, whether or not it exists) and per client address.
CREATE TABLE login_throttle (
    scope             text        NOT NULL,
    key               text        NOT NULL,
    failures          integer     NOT NULL,
    window_started_at timestamptz NOT NULL,
    locked_until      timestamptz,
    CONSTRAINT login_throttle_pkey PRIMARY KEY (scope, key),
    CONSTRAINT login_throttle_scope_known CHECK (scope IN ('account', 'address')),
    CONSTRAINT login_throttle_failures_positive CHECK (failures > 0)
);
