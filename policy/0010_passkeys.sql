-- 0010_passkeys: passkeys (WebAuthn, issue 12), for both realms. A
-- credential row keeps what §7.1 step 27 asks (id, COSE key, counter, BE,
-- BS, UV, transports, AAGUID, attestation) and the user handle it was
-- registered under (an assertion's userHandle must be it).
ALTER TABLE auth.passkeys
  ADD COLUMN IF NOT EXISTS alg                integer NOT NULL DEFAULT -7,
  ADD COLUMN IF NOT EXISTS user_handle        bytea,
  ADD COLUMN IF NOT EXISTS aaguid             bytea,
  ADD COLUMN IF NOT EXISTS transports         text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS backup_eligible    boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS backed_up          boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS user_verified      boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS attestation_format text NOT NULL DEFAULT 'none',
  ADD COLUMN IF NOT EXISTS attestation_type   text NOT NULL DEFAULT 'none',
  ADD COLUMN IF NOT EXISTS attestation_trusted boolean NOT NULL DEFAULT false;
ALTER TABLE auth.admin_passkeys
  ADD COLUMN IF NOT EXISTS alg                integer NOT NULL DEFAULT -7,
  ADD COLUMN IF NOT EXISTS user_handle        bytea,
  ADD COLUMN IF NOT EXISTS aaguid             bytea,
  ADD COLUMN IF NOT EXISTS transports         text[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS backup_eligible    boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS backed_up          boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS user_verified      boolean NOT NULL DEFAULT false,
  ADD COLUMN IF NOT EXISTS attestation_format text NOT NULL DEFAULT 'none',
  ADD COLUMN IF NOT EXISTS attestation_type   text NOT NULL DEFAULT 'none',
  ADD COLUMN IF NOT EXISTS attestation_trusted boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS passkeys_user ON auth.passkeys (user_id);
CREATE INDEX IF NOT EXISTS admin_passkeys_user ON auth.admin_passkeys (user_id);

-- The passkey a session signed in with: revoking it ends those sessions
-- (and, by cascade, their refresh tokens).
ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS passkey_id uuid REFERENCES auth.passkeys(id) ON DELETE CASCADE;
ALTER TABLE auth.admin_sessions
  ADD COLUMN IF NOT EXISTS passkey_id uuid REFERENCES auth.admin_passkeys(id) ON DELETE CASCADE;
CREATE INDEX IF NOT EXISTS sessions_passkey ON auth.sessions (passkey_id) WHERE passkey_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS admin_sessions_passkey ON auth.admin_sessions (passkey_id) WHERE passkey_id IS NOT NULL;

-- A passkey sign-in without user verification for a user with TOTP goes
-- through the MFA challenge: the session it becomes is the passkey's too.
ALTER TABLE auth.mfa_sign_in_challenges
  ADD COLUMN IF NOT EXISTS passkey_id uuid REFERENCES auth.passkeys(id) ON DELETE CASCADE;
ALTER TABLE auth.admin_mfa_sign_in_challenges
  ADD COLUMN IF NOT EXISTS passkey_id uuid REFERENCES auth.admin_passkeys(id) ON DELETE CASCADE;

-- A ceremony: the challenge authd issued (its base64url text, as the
-- client data carries it), for one realm, one kind, and for registration
-- (and a sign-in that named the user) one user. Single-use: verifying
-- deletes the row first, whatever the outcome. Lives 5 minutes.
CREATE TABLE IF NOT EXISTS auth.webauthn_challenges (
  challenge   text PRIMARY KEY,
  realm_ref   text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('registration', 'authentication')),
  user_id     uuid REFERENCES auth.users(id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS webauthn_challenges_expiry ON auth.webauthn_challenges (expires_at);
CREATE TABLE IF NOT EXISTS auth.admin_webauthn_challenges (
  challenge   text PRIMARY KEY,
  realm_ref   text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('registration', 'authentication')),
  user_id     uuid REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_webauthn_challenges_expiry ON auth.admin_webauthn_challenges (expires_at);

-- Every revocation, by whom (the user, or admin:<id>), kept after the
-- passkey row is gone.
CREATE TABLE IF NOT EXISTS auth.passkey_revocations (
  id            bigserial PRIMARY KEY,
  realm_ref     text NOT NULL,
  user_id       uuid NOT NULL,
  passkey_id    uuid NOT NULL,
  credential_id bytea NOT NULL,
  friendly_name text,
  revoked_by    text NOT NULL,
  ip            inet,
  revoked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS passkey_revocations_user ON auth.passkey_revocations (realm_ref, user_id);

REVOKE ALL ON auth.webauthn_challenges, auth.admin_webauthn_challenges, auth.passkey_revocations
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON SEQUENCE auth.passkey_revocations_id_seq FROM PUBLIC, anon, authenticated, service_role;
