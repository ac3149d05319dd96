-- 0005_email_canonical: placeholder, filled in by the change that owns it.
SELECT 1;
