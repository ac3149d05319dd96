-- 0009_mfa_totp: TOTP factors (issue 13), for both realms. A factor's seed
-- exists only sealed by keyd (sealed_secret; keyd verifies codes and never
-- unseals a TOTP blob for anyone); last_used_step is the newest time step
-- accepted, so a code once accepted is refused for that factor.
ALTER TABLE auth.mfa_factors ADD COLUMN IF NOT EXISTS last_challenged_at timestamptz;
ALTER TABLE auth.admin_mfa_factors ADD COLUMN IF NOT EXISTS last_challenged_at timestamptz;
CREATE INDEX IF NOT EXISTS mfa_factors_user ON auth.mfa_factors (user_id);
CREATE INDEX IF NOT EXISTS admin_mfa_factors_user ON auth.admin_mfa_factors (user_id);
-- Every read of a user counts their unused recovery codes (GET /user, each
-- refresh): by index, not by scanning every user's codes.
CREATE INDEX IF NOT EXISTS mfa_recovery_codes_user ON auth.mfa_recovery_codes (user_id);
CREATE INDEX IF NOT EXISTS admin_mfa_recovery_codes_user ON auth.admin_mfa_recovery_codes (user_id);

-- A challenge: one verification attempt window of a factor, bound to the
-- client address that asked for it (GoTrue's mfa_ip_address_mismatch).
CREATE TABLE IF NOT EXISTS auth.mfa_challenges (
  id          uuid PRIMARY KEY,
  factor_id   uuid NOT NULL REFERENCES auth.mfa_factors(id) ON DELETE CASCADE,
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now(),
  verified_at timestamptz
);
CREATE INDEX IF NOT EXISTS mfa_challenges_factor ON auth.mfa_challenges (factor_id);
CREATE TABLE IF NOT EXISTS auth.admin_mfa_challenges (
  id          uuid PRIMARY KEY,
  factor_id   uuid NOT NULL REFERENCES auth.admin_mfa_factors(id) ON DELETE CASCADE,
  ip          inet,
  created_at  timestamptz NOT NULL DEFAULT now(),
  verified_at timestamptz
);
CREATE INDEX IF NOT EXISTS admin_mfa_challenges_factor ON auth.admin_mfa_challenges (factor_id);

REVOKE ALL ON auth.mfa_challenges, auth.admin_mfa_challenges FROM PUBLIC, anon, authenticated, service_role;

-- mfa_sign_in = challenge (the default): a first factor (password, mailed
-- code, link) of a user with a verified factor answers no session but a
-- challenge token; POST /mfa/verify with a code turns it into an aal2
-- session. Only the token's SHA-256 is kept; it is single-use, lives 5
-- minutes, belongs to one user and one client address, and dies after 5
-- wrong codes.
CREATE TABLE IF NOT EXISTS auth.mfa_sign_in_challenges (
  token_hash   bytea PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  first_method text NOT NULL,
  ip           inet,
  user_agent   text,
  attempts     integer NOT NULL DEFAULT 0,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS mfa_sign_in_challenges_expiry ON auth.mfa_sign_in_challenges (expires_at);
CREATE INDEX IF NOT EXISTS mfa_sign_in_challenges_user ON auth.mfa_sign_in_challenges (user_id);  -- a password change ends them
CREATE TABLE IF NOT EXISTS auth.admin_mfa_sign_in_challenges (
  token_hash   bytea PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES auth.admin_users(id) ON DELETE CASCADE,
  first_method text NOT NULL,
  ip           inet,
  user_agent   text,
  attempts     integer NOT NULL DEFAULT 0,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_mfa_sign_in_challenges_expiry ON auth.admin_mfa_sign_in_challenges (expires_at);
CREATE INDEX IF NOT EXISTS admin_mfa_sign_in_challenges_user ON auth.admin_mfa_sign_in_challenges (user_id);
REVOKE ALL ON auth.mfa_sign_in_challenges, auth.admin_mfa_sign_in_challenges
  FROM PUBLIC, anon, authenticated, service_role;
