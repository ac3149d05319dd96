-- 0001: the auth schema, the client roles, and the RLS helper functions.
-- Applied by authd at start (or `authd migrate`), once, in one transaction,
-- recorded in auth.schema_migrations. Every statement is idempotent so that
-- a half-applied older layout is repaired, never duplicated.

CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE IF NOT EXISTS auth.schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Client roles, as PostgREST and Supabase name them. NOLOGIN: only reached
-- with SET ROLE by a role that is granted them (authd, PostgREST).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
    CREATE ROLE anon NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
    CREATE ROLE authenticated NOLOGIN NOINHERIT;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
END
$$;

-- Projects: one appliance serves several. Keys: the publishable key is
-- public; the secret key is kept only as a keyd MAC (purpose api_key).
CREATE TABLE IF NOT EXISTS auth.projects (
  ref                text PRIMARY KEY CHECK (ref ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  name               text NOT NULL,
  publishable_key    text NOT NULL UNIQUE,
  secret_key_mac     bytea NOT NULL UNIQUE,
  secret_key_mac_ver integer NOT NULL,
  issuer             text NOT NULL,
  keyring            text NOT NULL,
  settings           jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.users (
  id                  uuid PRIMARY KEY,
  project_ref         text NOT NULL REFERENCES auth.projects(ref) ON DELETE CASCADE,
  aud                 text NOT NULL DEFAULT 'authenticated',
  role                text NOT NULL DEFAULT 'authenticated',
  email               text,
  phone               text,
  -- Argon2id(HMAC(pepper, password)) in PHC form, with the pepper version.
  encrypted_password  text,
  pepper_version      integer,
  email_confirmed_at  timestamptz,
  phone_confirmed_at  timestamptz,
  last_sign_in_at     timestamptz,
  raw_app_meta_data   jsonb NOT NULL DEFAULT '{}'::jsonb,
  raw_user_meta_data  jsonb NOT NULL DEFAULT '{}'::jsonb,
  banned_until        timestamptz,
  is_anonymous        boolean NOT NULL DEFAULT false,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_project_email ON auth.users (project_ref, lower(email)) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS users_project_phone ON auth.users (project_ref, phone) WHERE phone IS NOT NULL;

CREATE TABLE IF NOT EXISTS auth.identities (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  provider      text NOT NULL,
  provider_id   text NOT NULL,
  identity_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_sign_in_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_id, user_id)
);

CREATE TABLE IF NOT EXISTS auth.sessions (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  aal          text NOT NULL DEFAULT 'aal1' CHECK (aal IN ('aal1', 'aal2')),
  factor_id    uuid,
  user_agent   text,
  ip           inet,
  not_after    timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz
);
CREATE INDEX IF NOT EXISTS sessions_user ON auth.sessions (user_id);

CREATE TABLE IF NOT EXISTS auth.mfa_amr_claims (
  session_id uuid NOT NULL REFERENCES auth.sessions(id) ON DELETE CASCADE,
  method     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, method)
);

-- Refresh tokens are stored as SHA-256 of the opaque token (it has 256
-- bits of entropy; nothing to crack). `revoked` marks rotated tokens: one
-- presented again is a replay.
CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
  id         bigserial PRIMARY KEY,
  token_hash bytea NOT NULL UNIQUE,
  session_id uuid NOT NULL REFERENCES auth.sessions(id) ON DELETE CASCADE,
  user_id    uuid NOT NULL,
  parent_id  bigint,
  revoked    boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS refresh_tokens_session ON auth.refresh_tokens (session_id);

-- A sign-up waits here until its code is verified: no users row before.
CREATE TABLE IF NOT EXISTS auth.pending_signups (
  id                 uuid PRIMARY KEY,
  project_ref        text NOT NULL REFERENCES auth.projects(ref) ON DELETE CASCADE,
  email              text NOT NULL,
  encrypted_password text,
  pepper_version     integer,
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at         timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS pending_signups_email ON auth.pending_signups (project_ref, lower(email));

-- One-time codes (sign-up, email sign-in, recovery, later SMS), stored as
-- keyd MACs, with an attempt budget: a wrong code burns an attempt.
CREATE TABLE IF NOT EXISTS auth.one_time_codes (
  id           uuid PRIMARY KEY,
  project_ref  text NOT NULL REFERENCES auth.projects(ref) ON DELETE CASCADE,
  kind         text NOT NULL CHECK (kind IN ('signup', 'email', 'recovery', 'email_change', 'sms', 'phone_change', 'reauthentication')),
  recipient    text NOT NULL,
  code_mac     bytea NOT NULL,
  mac_version  integer NOT NULL,
  attempts     integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz
);
CREATE INDEX IF NOT EXISTS one_time_codes_lookup ON auth.one_time_codes (project_ref, recipient, kind, created_at DESC);

-- Mail and SMS to send, written in the same transaction as the code.
CREATE TABLE IF NOT EXISTS auth.outbox (
  id              bigserial PRIMARY KEY,
  project_ref     text NOT NULL REFERENCES auth.projects(ref) ON DELETE CASCADE,
  channel         text NOT NULL CHECK (channel IN ('email', 'sms')),
  recipient       text NOT NULL,
  subject         text NOT NULL DEFAULT '',
  body            text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_due ON auth.outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Rate-limit counters shared by every authd node (fixed windows).
CREATE TABLE IF NOT EXISTS auth.rate_limits (
  key          text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL
);

-- Room for what comes next: MFA factors and challenges, recovery codes,
-- passkeys, admin users and their provider identities.
CREATE TABLE IF NOT EXISTS auth.mfa_factors (
  id            uuid PRIMARY KEY,
  user_id       uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  factor_type   text NOT NULL CHECK (factor_type IN ('totp', 'phone', 'webauthn')),
  friendly_name text,
  status        text NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'verified')),
  sealed_secret bytea,
  last_used_step bigint NOT NULL DEFAULT 0,
  phone         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.mfa_recovery_codes (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  code_mac    bytea NOT NULL,
  mac_version integer NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.passkeys (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  credential_id   bytea NOT NULL UNIQUE,
  public_key_cose bytea NOT NULL,
  sign_count      bigint NOT NULL DEFAULT 0,
  friendly_name   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz
);

-- RLS helpers: read the claims PostgREST (and authd's RPC endpoint) put
-- into request.jwt.claims, falling back to the older per-claim settings.
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

-- Client roles may call the helpers and nothing else in auth.
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
REVOKE ALL ON ALL TABLES IN SCHEMA auth FROM anon, authenticated, service_role;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA auth FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.jwt(), auth.uid(), auth.role(), auth.email() TO anon, authenticated, service_role;
