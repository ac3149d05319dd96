// Row-level security end to end: the unmodified supabase-js client signs in
// with auth-js and calls functions with rpc() against authd's RPC endpoint;
// auth.uid() in the seed's policy sees the signed-in user. Then the
// PostgREST recipe of config/postgrest.conf.example, checked the way
// PostgREST applies it (PostgREST itself is not packaged for Debian 12).
// The project exposes the schema public (project setting exposed_schemas);
// calls carry its ref, which auth.project() reads.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@supabase/supabase-js';
import { SignJWT, createLocalJWKSet, decodeJwt, generateKeyPair, jwtVerify } from 'jose';
import { address, newPassword, startAppliance } from './appliance.mjs';

let app;
before(async () => {
  app = await startAppliance('rls', { settings: ['exposed_schemas=["public"]'] });
  sql(`
    CREATE TABLE public.private_data (
      id       bigserial PRIMARY KEY,
      owner_id uuid NOT NULL DEFAULT auth.uid(),
      note     text NOT NULL
    );
    ALTER TABLE public.private_data ENABLE ROW LEVEL SECURITY;
    CREATE POLICY "users read own rows" ON private_data FOR SELECT USING (auth.uid() = owner_id);
    CREATE POLICY "users add own rows" ON private_data FOR INSERT WITH CHECK (auth.uid() = owner_id);
    GRANT SELECT ON private_data TO anon;
    GRANT SELECT, INSERT ON private_data TO authenticated;
    GRANT USAGE ON SEQUENCE private_data_id_seq TO authenticated;
    CREATE FUNCTION public.add_note(note text) RETURNS private_data LANGUAGE sql
      AS $$ INSERT INTO private_data (note) VALUES (note) RETURNING * $$;
    CREATE FUNCTION public.my_notes() RETURNS SETOF private_data LANGUAGE sql STABLE
      AS $$ SELECT * FROM private_data ORDER BY id $$;
    CREATE FUNCTION public.whoami() RETURNS text LANGUAGE sql STABLE
      AS $$ SELECT coalesce(auth.uid()::text, auth.role()) $$;
    CREATE FUNCTION public.project() RETURNS text LANGUAGE sql STABLE AS $$ SELECT auth.project() $$;
    CREATE FUNCTION public.my_profile() RETURNS SETOF auth.user_profile LANGUAGE sql STABLE
      AS $$ SELECT * FROM auth.user_profile $$;
  `);
});
after(async () => { await app?.stop(); });

const sql = (query) => app.sql(query);

// supabase-js as an app creates it. Its realtime client needs a WebSocket,
// which Node 20 lacks; nothing here subscribes, so it gets one that is
// never constructed.
function supabase() {
  class NoWebSocket { constructor() { throw new Error('realtime is not used in these tests'); } }
  return createClient(app.url, app.publishableKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoWebSocket },
  });
}

async function signedIn(tag) {
  const c = supabase();
  const email = address(tag);
  const password = newPassword();
  assert.equal((await c.auth.signUp({ email, password })).error, null);
  const token = await app.mail.codeFor(email);
  const v = await c.auth.verifyOtp({ email, token, type: 'signup' });
  assert.equal(v.error, null, v.error?.message);
  return { c, email, user: v.data.user, session: v.data.session };
}

test('supabase-js rpc(): each signed-in user reads only their own rows; anon reads none', async () => {
  const jane = await signedIn('jane');
  const john = await signedIn('john');
  for (const [who, notes] of [[jane, ['jane 1', 'jane 2']], [john, ['john 1']]]) {
    for (const note of notes) {
      const { data, error } = await who.c.rpc('add_note', { note });
      assert.equal(error, null, error?.message);
      assert.equal(data.owner_id, who.user.id, 'owner_id defaults to auth.uid()');
    }
  }
  const janes = await jane.c.rpc('my_notes');
  assert.equal(janes.error, null);
  assert.deepEqual(janes.data.map((r) => r.note), ['jane 1', 'jane 2']);
  const johns = await john.c.rpc('my_notes');
  assert.deepEqual(johns.data.map((r) => r.note), ['john 1']);
  assert.equal((await jane.c.rpc('whoami')).data, jane.user.id);
  assert.equal(decodeJwt(jane.session.access_token).ref, 'e2e', 'the access token names its project');
  assert.equal((await jane.c.rpc('project')).data, 'e2e');

  const anon = supabase();
  const anonNotes = await anon.rpc('my_notes');
  assert.equal(anonNotes.error, null, anonNotes.error?.message);
  assert.deepEqual(anonNotes.data, [], 'anon sees no rows');
  assert.equal((await anon.rpc('whoami')).data, 'anon');
  assert.equal((await anon.rpc('project')).data, 'e2e', 'anon calls carry the project too');
  // anon may not write: no INSERT grant, whatever the function says.
  const anonWrite = await anon.rpc('add_note', { note: 'anon' });
  assert.equal(anonWrite.error?.code, '42501');
  assert.equal(sql("SELECT count(*) FROM private_data WHERE note = 'anon'"), '0');
  assert.equal(sql('SELECT count(*) FROM private_data'), '3');
});

test('supabase-js rpc(): own auth data through auth.user_profile, masked; clean errors', async () => {
  const jane = await signedIn('profile');
  const { data, error } = await jane.c.rpc('my_profile');
  assert.equal(error, null, error?.message);
  assert.equal(data.length, 1);
  assert.equal(data[0].email, jane.email);
  assert.equal(data[0].id, jane.user.id);
  assert.ok(!('encrypted_password' in data[0]), 'no password hash leaves the database');
  const anon = await supabase().rpc('my_profile');
  assert.equal(anon.error?.code, '42501', 'anon cannot read the user views');

  const missing = await jane.c.rpc('no_such_function');
  assert.equal(missing.status, 404);
  assert.equal(missing.error?.code, 'PGRST202');
  // A signed-out client after signOut: its old token no longer works.
  const token = jane.session.access_token;
  await jane.c.auth.signOut();
  const r = await fetch(`${app.url}/rest/v1/rpc/whoami`, {
    method: 'POST',
    headers: { apikey: app.publishableKey, Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  assert.equal(r.status, 403);
  assert.equal((await r.json()).code, 'session_not_found', 'PostgREST-shaped error on /rest/v1');
});

// PostgREST's settings as config/postgrest.conf.example gives them.
function postgrestSettings() {
  const text = readFileSync(new URL('../../config/postgrest.conf.example', import.meta.url), 'utf8');
  const settings = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z-]+)\s*=\s*"(.*)"\s*$/.exec(line);
    if (m) settings[m[1]] = m[2];
  }
  return settings;
}

test('PostgREST recipe: the JWKS file, jwt-aud and jwt-role-claim-key accept authd tokens, and RLS sees the user', async () => {
  const conf = postgrestSettings();
  assert.match(conf['jwt-secret'], /^@.*\.jwks\.json$/, 'the key set comes from a file');
  assert.equal(conf['db-anon-role'], 'anon');
  assert.match(conf['db-uri'], /^postgres:\/\/authenticator@/, 'PostgREST logs in as its own restricted role');
  assert.ok(conf['db-schemas'], "the project's exposed schemas");
  const jane = await signedIn('postgrest');
  assert.equal((await jane.c.rpc('add_note', { note: 'via postgrest' })).error, null);

  // The file the documented timer writes: the project's JWKS as served.
  const dir = mkdtempSync('/tmp/orbitnest-postgrest-');
  try {
    const jwksFile = join(dir, 'e2e.jwks.json');
    const jwks = await (await fetch(`${app.authUrl}/.well-known/jwks.json`)).text();
    writeFileSync(jwksFile, jwks);
    const keySet = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
    // What PostgREST checks: signature by a key of the set, exp, aud.
    const { payload } = await jwtVerify(jane.session.access_token, keySet, { audience: conf['jwt-aud'] });
    const role = conf['jwt-role-claim-key'].split('.').filter(Boolean).reduce((o, k) => o?.[k], payload);
    assert.equal(role, 'authenticated');
    // A token signed by another key with the same kid is refused.
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ ...decodeJwt(jane.session.access_token) })
      .setProtectedHeader({ alg: 'ES256', kid: JSON.parse(jwks).keys[0].kid }).sign(privateKey);
    await assert.rejects(jwtVerify(forged, keySet, { audience: conf['jwt-aud'] }));
    // What PostgREST runs per request, as the role from the claim.
    const claims = JSON.stringify(payload).replaceAll("'", "''");
    const seen = sql(`BEGIN; SET LOCAL ROLE ${role};
      SELECT set_config('request.jwt.claims', '${claims}', true) IS NOT NULL;
      SELECT string_agg(note, ',') || ' ' || auth.project() FROM private_data; COMMIT;`);
    assert.equal(seen.split('\n').pop(), 'via postgrest e2e', 'RLS sees the user, auth.project() the project');
    const anonSeen = sql(`BEGIN; SET LOCAL ROLE ${conf['db-anon-role']};
      SELECT count(*) FROM private_data; COMMIT;`);
    assert.equal(anonSeen.split('\n').pop(), '0');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
