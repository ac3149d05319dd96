-- 0012_webauthn_factors: GoTrue's `factor_type: "webauthn"` MFA factors
-- (issue 12). A verified webauthn factor's credential is a row of the
-- passkeys table carrying the factor's id: one place for every credential
-- (ids unique across both uses, the same counter and verification), while
-- the factor stays a second factor only — the passkey endpoints neither
-- list it nor sign in with it. Unenrolling the factor deletes it.
ALTER TABLE auth.passkeys
  ADD COLUMN IF NOT EXISTS factor_id uuid REFERENCES auth.mfa_factors(id) ON DELETE CASCADE;
ALTER TABLE auth.admin_passkeys
  ADD COLUMN IF NOT EXISTS factor_id uuid REFERENCES auth.admin_mfa_factors(id) ON DELETE CASCADE;
CREATE UNIQUE INDEX IF NOT EXISTS passkeys_factor ON auth.passkeys (factor_id) WHERE factor_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS admin_passkeys_factor ON auth.admin_passkeys (factor_id) WHERE factor_id IS NOT NULL;

-- The ceremony of a factor's challenge (POST /factors/{id}/challenge): the
-- WebAuthn challenge its client data must carry.
ALTER TABLE auth.mfa_challenges ADD COLUMN IF NOT EXISTS webauthn_challenge text;
ALTER TABLE auth.admin_mfa_challenges ADD COLUMN IF NOT EXISTS webauthn_challenge text;

-- mfa_sign_in = challenge: a user with a webauthn factor gets the request
-- options with the challenge token; the token's row keeps their challenge.
ALTER TABLE auth.mfa_sign_in_challenges ADD COLUMN IF NOT EXISTS webauthn_challenge text;
ALTER TABLE auth.admin_mfa_sign_in_challenges ADD COLUMN IF NOT EXISTS webauthn_challenge text;
