-- 0007_refresh_reuse: placeholder, filled in by the change that owns it.
SELECT 1;
