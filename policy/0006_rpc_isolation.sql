-- 0006_rpc_isolation: what a function called through the RPC endpoint (or
-- PostgREST) may believe about its caller, and which project it serves.

-- The helpers trust request.jwt.claims only: the setting authd (and
-- PostgREST 9+) sets from the verified token, per transaction. The older
-- per-claim settings (request.jwt.claim.sub, ...) are ignored, because
-- anything running as a client role can set them too and, before 0006, a
-- session-level one outlived its caller on a pooled connection.
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb
$$;

CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
$$;

-- The project the call is made for: the "ref" claim, which authd puts in
-- every access token and in the claims of anon and service_role calls.
-- Policies of tables that more than one project's functions could reach
-- check it, e.g. USING (auth.project() = 'shop' AND auth.uid() = owner_id).
CREATE OR REPLACE FUNCTION auth.project() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'ref'
$$;

REVOKE ALL ON FUNCTION auth.project() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.project() TO anon, authenticated, service_role;

-- A schema is exposed for RPC by one project at most (the project setting
-- exposed_schemas): otherwise one project's keys and users would reach the
-- other's functions. Checked here, under a lock, so that two concurrent
-- setting changes cannot both claim a schema.
CREATE OR REPLACE FUNCTION auth.check_exposed_schemas() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  taken record;
BEGIN
  IF jsonb_typeof(NEW.settings -> 'exposed_schemas') IS DISTINCT FROM 'array' THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('auth.exposed_schemas'));
  SELECT p.ref, s.name INTO taken
    FROM auth.projects p, jsonb_array_elements_text(p.settings -> 'exposed_schemas') AS s(name)
   WHERE p.ref <> NEW.ref
     AND jsonb_typeof(p.settings -> 'exposed_schemas') = 'array'
     AND s.name IN (SELECT jsonb_array_elements_text(NEW.settings -> 'exposed_schemas'))
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'schema % is already exposed by project %', taken.name, taken.ref
      USING ERRCODE = 'unique_violation';
  END IF;
  RETURN NEW;
END
$$;

REVOKE ALL ON FUNCTION auth.check_exposed_schemas() FROM PUBLIC;

CREATE OR REPLACE TRIGGER projects_exposed_schemas
  BEFORE INSERT OR UPDATE OF settings ON auth.projects
  FOR EACH ROW EXECUTE FUNCTION auth.check_exposed_schemas();
