-- 0013_social_sign_in: social sign-in (OpenID Connect) for admins
-- (authd/oauth/README.md). A flow in flight is kept by the SHA-256 of the
-- state sent to the provider, with the nonce and our PKCE verifier for the
-- provider, the client's own PKCE challenge and where to send it back, and
-- the SHA-256 of the cookie that binds it to the browser that began it;
-- it is taken once (deleted) by the callback and lives 10 minutes. The
-- code the callback hands the browser is kept by its SHA-256, bound to
-- the client's challenge, taken once, and lives 5 minutes.
CREATE TABLE IF NOT EXISTS auth.oauth_flows (
  state_hash     bytea PRIMARY KEY,
  realm_ref      text NOT NULL,
  provider       text NOT NULL,
  nonce          text NOT NULL,
  code_verifier  text NOT NULL,
  code_challenge text NOT NULL,
  redirect_to    text NOT NULL,
  browser_hash   bytea NOT NULL,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_flows_expiry ON auth.oauth_flows (expires_at);
CREATE TABLE IF NOT EXISTS auth.oauth_codes (
  code_hash      bytea PRIMARY KEY,
  realm_ref      text NOT NULL,
  user_id        uuid NOT NULL,
  provider       text NOT NULL,
  code_challenge text NOT NULL,
  expires_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_codes_expiry ON auth.oauth_codes (expires_at);
REVOKE ALL ON auth.oauth_flows, auth.oauth_codes FROM PUBLIC, anon, authenticated, service_role;

-- A provider's subject is one person: it links to one admin at most.
CREATE UNIQUE INDEX IF NOT EXISTS admin_identities_provider_subject
  ON auth.admin_identities (provider, provider_id);
