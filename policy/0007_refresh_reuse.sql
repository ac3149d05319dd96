-- 0007_refresh_reuse: a refresh token's child is derived from it (keyd's
-- MAC of the parent token, purpose refresh_token), not drawn at random, so
-- that a client retrying a refresh whose answer it lost gets the same child
-- back instead of being taken for a thief. Only token hashes are stored;
-- the row records which MAC key version made its child, the one thing the
-- derivation needs besides the parent token itself (which only the client
-- holds). NULL: a token rotated before this version, or not yet rotated.
ALTER TABLE auth.refresh_tokens ADD COLUMN IF NOT EXISTS child_mac_version integer;
