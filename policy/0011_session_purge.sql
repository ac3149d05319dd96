-- 0011_session_purge: what the housekeeping purge (#14) looks rows up by —
-- rotated refresh tokens by the time they were rotated, sessions by their
-- age and last refresh — so a batch reads an index, not the table.
CREATE INDEX IF NOT EXISTS refresh_tokens_rotated_at ON auth.refresh_tokens (updated_at) WHERE revoked;
CREATE INDEX IF NOT EXISTS admin_refresh_tokens_rotated_at ON auth.admin_refresh_tokens (updated_at) WHERE revoked;
CREATE INDEX IF NOT EXISTS admin_sessions_created ON auth.admin_sessions (created_at);
