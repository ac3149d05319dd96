-- 0008_admin_realm: the admin user system (the people who run the
-- appliance) in tables of its own. A flow is one C++ implementation for
-- both realms (authd/realms/realm.h names the tables), but no admin row
-- is ever a project user's and no project user's row an admin's: token
-- isolation holds in SQL too. The column shapes mirror auth.users and its
-- neighbours so one store serves both; `realm` stands where project_ref
-- stands and can only say 'admin'.
CREATE TABLE IF NOT EXISTS auth.admin_users (
  id                     uuid PRIMARY KEY,
  realm                  text NOT NULL DEFAULT 'admin' CHECK (realm = 'admin'),
  aud                    text NOT NULL DEFAULT 'orbitnest-admin',
  role                   text NOT NULL DEFAULT 'admin',
  email                  text,
  phone                  text,
  encrypted_password     text,
  pepper_version         integer,
  email_confirmed_at     timestamptz,
  phone_confirmed_at     timestamptz,
  last_sign_in_at        timestamptz,
  raw_app_meta_data      jsonb NOT NULL DEFAULT '{}'::jsonb,
  raw_user_meta_data     jsonb NOT NULL DEFAULT '{}'::jsonb,
  banned_until           timestamptz,
  is_anonymous           boolean NOT NULL DEFAULT false CHECK (NOT is_anonymous),
  email_change           text,
  email_change_sent_at   timestamptz,
  email_change_confirmed smallint NOT NULL DEFAULT 0,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS admin_users_email ON auth.admin_users (realm, email) WHERE email IS NOT NULL;

-- Sign-ins through a provider (social login for admins comes later).
CREATE TABLE IF NOT EXISTS auth.admin_identities (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  provider        text NOT NULL,
  provider_id     text NOT NULL,
  identity_data   jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_sign_in_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_id, user_id)
);

CREATE TABLE IF NOT EXISTS auth.admin_sessions (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  aal          text NOT NULL DEFAULT 'aal1' CHECK (aal IN ('aal1', 'aal2')),
  factor_id    uuid,
  user_agent   text,
  ip           inet,
  not_after    timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  refreshed_at timestamptz
);
CREATE INDEX IF NOT EXISTS admin_sessions_user ON auth.admin_sessions (user_id);

CREATE TABLE IF NOT EXISTS auth.admin_mfa_amr_claims (
  session_id uuid NOT NULL REFERENCES auth.admin_sessions(id) ON DELETE CASCADE,
  method     text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, method)
);

-- As auth.refresh_tokens: SHA-256 of the opaque token; a child is keyd's
-- MAC of its parent (0007), child_mac_version the key version that made it.
CREATE TABLE IF NOT EXISTS auth.admin_refresh_tokens (
  id                bigserial PRIMARY KEY,
  token_hash        bytea NOT NULL UNIQUE,
  session_id        uuid NOT NULL REFERENCES auth.admin_sessions(id) ON DELETE CASCADE,
  user_id           uuid NOT NULL,
  parent_id         bigint,
  revoked           boolean NOT NULL DEFAULT false,
  child_mac_version integer,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS admin_refresh_tokens_session ON auth.admin_refresh_tokens (session_id);

-- Room for the admins' second factors and passkeys (issues 12 and 13),
-- shaped as the project users' tables.
CREATE TABLE IF NOT EXISTS auth.admin_mfa_factors (
  id             uuid PRIMARY KEY,
  user_id        uuid NOT NULL REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  factor_type    text NOT NULL CHECK (factor_type IN ('totp', 'phone', 'webauthn')),
  friendly_name  text,
  status         text NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'verified')),
  sealed_secret  bytea,
  last_used_step bigint NOT NULL DEFAULT 0,
  phone          text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.admin_mfa_recovery_codes (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  code_mac    bytea NOT NULL,
  mac_version integer NOT NULL,
  used_at     timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS auth.admin_passkeys (
  id              uuid PRIMARY KEY,
  user_id         uuid NOT NULL REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  credential_id   bytea NOT NULL UNIQUE,
  public_key_cose bytea NOT NULL,
  sign_count      bigint NOT NULL DEFAULT 0,
  friendly_name   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_used_at    timestamptz
);

-- Protected auth tables: no client role reads or writes an admin table,
-- not even service_role (it bypasses RLS, not privileges).
REVOKE ALL ON auth.admin_users, auth.admin_identities, auth.admin_sessions, auth.admin_mfa_amr_claims,
  auth.admin_refresh_tokens, auth.admin_mfa_factors, auth.admin_mfa_recovery_codes, auth.admin_passkeys
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON SEQUENCE auth.admin_refresh_tokens_id_seq FROM PUBLIC, anon, authenticated, service_role;

-- A project's keyring is its own: never the admin keyring, never another
-- project's (keyd names them "project:<ref>"), so a token verified with a
-- project's keys can be nothing but that project's.
DO $$ BEGIN
  ALTER TABLE auth.projects ADD CONSTRAINT projects_own_keyring CHECK (keyring = 'project:' || ref);
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
