-- 0005: addresses are stored in their one canonical form (authd computes
-- it: ASCII local part in lower case, IDNA A-label domain) and compared
-- byte for byte. lower() is gone from the lookups: in a UTF-8 database it
-- folds KELVIN SIGN to k and DOTTED I to i, so a request's other spelling
-- could reach another mailbox's account.
DROP INDEX IF EXISTS auth.users_project_email;
CREATE UNIQUE INDEX IF NOT EXISTS users_project_email_exact ON auth.users (project_ref, email) WHERE email IS NOT NULL;
DROP INDEX IF EXISTS auth.pending_signups_email;
CREATE UNIQUE INDEX IF NOT EXISTS pending_signups_email_exact ON auth.pending_signups (project_ref, email);
CREATE INDEX IF NOT EXISTS pending_signups_expiry ON auth.pending_signups (expires_at);

-- Escalating lockout of code verification per address: after every
-- otp_max_attempts wrong codes the address is locked for 15 min, doubling
-- each time, until a code is verified (README: Codes).
CREATE TABLE IF NOT EXISTS auth.code_lockouts (
  project_ref  text NOT NULL REFERENCES auth.projects(ref) ON DELETE CASCADE,
  recipient    text NOT NULL,
  failures     integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_ref, recipient)
);

-- A queued message's plaintext (a code, a link) lives no longer than the
-- code it carries: past expires_at the body is blanked, sent or not.
ALTER TABLE auth.outbox ADD COLUMN IF NOT EXISTS expires_at timestamptz;
CREATE INDEX IF NOT EXISTS outbox_expiry ON auth.outbox (expires_at) WHERE body <> '';

-- A pending sign-up that a password-less request (a sign-in code, or a
-- sign-up without a password) has touched can gain no password until it
-- is verified: otherwise a stranger's later sign-up with a password would
-- become the account's password when the owner enters the newest code.
ALTER TABLE auth.pending_signups ADD COLUMN IF NOT EXISTS password_locked boolean NOT NULL DEFAULT false;
