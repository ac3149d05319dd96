-- 0006_rpc_isolation: placeholder, filled in by the change that owns it.
SELECT 1;
