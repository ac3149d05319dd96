-- 0002: what a signed-in user may read of their own auth data.
-- The tables stay closed to client roles (0001). These views run with the
-- privileges of their owner (authd's role) and show only the rows of
-- auth.uid(), and only the columns that are safe to hand back: password
-- hashes, code MACs, sealed secrets and refresh-token hashes are not in
-- them. security_barrier keeps a caller's own predicates (and functions
-- that could leak rows through errors or notices) from running before the
-- auth.uid() filter. Only SELECT is granted: they are read-only.

CREATE OR REPLACE VIEW auth.user_profile WITH (security_barrier) AS
  SELECT id, aud, role, email, phone, email_confirmed_at, phone_confirmed_at, last_sign_in_at,
         raw_app_meta_data AS app_metadata, raw_user_meta_data AS user_metadata, is_anonymous,
         created_at, updated_at
  FROM auth.users
  WHERE id = auth.uid();

CREATE OR REPLACE VIEW auth.user_sessions WITH (security_barrier) AS
  SELECT s.id, s.aal, s.user_agent, s.ip, s.created_at, s.updated_at, s.refreshed_at, s.not_after,
         s.id = (auth.jwt() ->> 'session_id')::uuid AS is_current
  FROM auth.sessions s
  WHERE s.user_id = auth.uid();

CREATE OR REPLACE VIEW auth.user_identities WITH (security_barrier) AS
  SELECT i.id, i.provider, i.identity_data, i.last_sign_in_at, i.created_at
  FROM auth.identities i
  WHERE i.user_id = auth.uid();

CREATE OR REPLACE VIEW auth.user_factors WITH (security_barrier) AS
  SELECT f.id, f.factor_type, f.friendly_name, f.status, f.created_at, f.updated_at
  FROM auth.mfa_factors f
  WHERE f.user_id = auth.uid();

CREATE OR REPLACE VIEW auth.user_passkeys WITH (security_barrier) AS
  SELECT p.id, p.friendly_name, p.created_at, p.last_used_at
  FROM auth.passkeys p
  WHERE p.user_id = auth.uid();

REVOKE ALL ON auth.user_profile, auth.user_sessions, auth.user_identities, auth.user_factors, auth.user_passkeys
  FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON auth.user_profile, auth.user_sessions, auth.user_identities, auth.user_factors, auth.user_passkeys
  TO authenticated;
