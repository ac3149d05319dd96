-- 0003: changing a user's email address (PUT /user with email).
-- The new address waits in email_change until its code is verified; with
-- secure email change (the default) the current address must confirm too.
-- email_change_confirmed holds which side has: 1 the current address, 2
-- the new one.
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change text;
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change_sent_at timestamptz;
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change_confirmed smallint NOT NULL DEFAULT 0;
