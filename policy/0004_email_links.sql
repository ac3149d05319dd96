-- 0004: email links beside the codes. Every code mail also carries a link
-- token (256 random bits, stored as SHA-256, like refresh tokens): the
-- app's page sends it back as verifyOtp({ token_hash }), or, when the flow
-- began with a PKCE challenge, the link carries it as ?code= and only the
-- browser holding the verifier can exchange it (grant_type=pkce). Code and
-- link share one row: using either consumes both.
ALTER TABLE auth.one_time_codes ADD COLUMN IF NOT EXISTS link_hash bytea;
ALTER TABLE auth.one_time_codes ADD COLUMN IF NOT EXISTS code_challenge text;
ALTER TABLE auth.one_time_codes ADD COLUMN IF NOT EXISTS code_challenge_method text;
DO $$
BEGIN
  ALTER TABLE auth.one_time_codes ADD CONSTRAINT one_time_codes_challenge_method
    CHECK (code_challenge_method IN ('s256', 'plain') AND code_challenge IS NOT NULL OR code_challenge_method IS NULL);
EXCEPTION WHEN duplicate_object THEN NULL;
END
$$;
CREATE UNIQUE INDEX IF NOT EXISTS one_time_codes_link ON auth.one_time_codes (link_hash) WHERE link_hash IS NOT NULL;
