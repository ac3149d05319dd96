// The unmodified @supabase/supabase-js (auth-js inside) and jose against a
// real appliance: keyd on SoftHSM2, authd over TLS, Postgres, codes read
// from mail caught by a real SMTP server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AuthApiError } from '@supabase/supabase-js';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { address, newPassword, recordSecret, startAppliance } from './appliance.mjs';

let app;
before(async () => { app = await startAppliance('auth'); });
after(async () => { await app?.stop(); });

const authClient = () => app.authClient();
const client = () => ({ auth: authClient() });
const sql = (query) => app.sql(query);
const password = newPassword;

async function signUp(email, pw) {
  const c = client();
  const { data, error } = await c.auth.signUp({ email, password: pw, options: { data: { name: 'Jane Doe' } } });
  assert.equal(error, null);
  assert.equal(data.session, null);
  const token = await app.mail.codeFor(email);
  recordSecret(token.length >= 6 ? token : `code-${token}-unused`);
  const v = await c.auth.verifyOtp({ email, token, type: 'signup' });
  assert.equal(v.error, null, v.error?.message);
  return { c, session: v.data.session, user: v.data.user };
}

test('signUp stores nothing in auth.users until verifyOtp checks the code', async () => {
  const email = address('signup');
  const c = client();
  const { error } = await c.auth.signUp({ email, password: password(), options: { data: { name: 'Jane Doe' } } });
  assert.equal(error, null);
  assert.equal(sql(`SELECT count(*) FROM auth.users WHERE email = '${email}'`), '0');
  const token = await app.mail.codeFor(email);
  assert.match(token, /^\d{4}$/, 'four digits by default');
  const { data, error: verifyError } = await c.auth.verifyOtp({ email, token, type: 'signup' });
  assert.equal(verifyError, null);
  assert.equal(data.user.email, email);
  assert.equal(data.user.user_metadata.name, 'Jane Doe');
  assert.ok(data.session.access_token && data.session.refresh_token);
  assert.equal(data.session.token_type, 'bearer');
  assert.equal(sql(`SELECT count(*) FROM auth.users WHERE email = '${email}'`), '1');
});

test('signInWithPassword, getUser, and getClaims verifying locally through the JWKS; jose agrees', async () => {
  const email = address('password');
  const pw = password();
  await signUp(email, pw);
  const c = client();
  const { data, error } = await c.auth.signInWithPassword({ email, password: pw });
  assert.equal(error, null);
  const user = await c.auth.getUser();
  assert.equal(user.error, null);
  assert.equal(user.data.user.email, email);

  const claims = await c.auth.getClaims();
  assert.equal(claims.error, null);
  assert.equal(claims.data.claims.sub, data.user.id);
  assert.equal(claims.data.claims.role, 'authenticated');
  assert.equal(claims.data.claims.aal, 'aal1');
  assert.equal(claims.data.claims.amr[0].method, 'password');

  const header = decodeProtectedHeader(data.session.access_token);
  assert.equal(header.alg, 'ES256');
  const jwks = createRemoteJWKSet(new URL(`${app.authUrl}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(data.session.access_token, jwks, { issuer: app.issuer, audience: 'authenticated' });
  assert.equal(payload.email, email);
  assert.equal(payload.session_id.length, 36);
});

test('signInWithOtp then verifyOtp(email) signs in without a password', async () => {
  const email = address('otp');
  await signUp(email, password());
  const c = client();
  assert.equal((await c.auth.signInWithOtp({ email, options: { shouldCreateUser: false } })).error, null);
  const token = await app.mail.codeFor(email);
  const { data, error } = await c.auth.verifyOtp({ email, token, type: 'email' });
  assert.equal(error, null);
  assert.equal(data.user.email, email);
  assert.equal((await c.auth.getClaims()).data.claims.amr[0].method, 'otp');
});

test('resetPasswordForEmail, verifyOtp(recovery), updateUser: the new password works, the old does not', async () => {
  const email = address('reset');
  const oldPw = password();
  await signUp(email, oldPw);
  const c = client();
  assert.equal((await c.auth.resetPasswordForEmail(email)).error, null);
  const token = await app.mail.codeFor(email);
  const v = await c.auth.verifyOtp({ email, token, type: 'recovery' });
  assert.equal(v.error, null);
  const newPw = password();
  const u = await c.auth.updateUser({ password: newPw });
  assert.equal(u.error, null);
  const again = await client().auth.signInWithPassword({ email, password: newPw });
  assert.equal(again.error, null);
  const old = await client().auth.signInWithPassword({ email, password: oldPw });
  assert.ok(old.error instanceof AuthApiError);
  assert.equal(old.error.code, 'invalid_credentials');
  assert.equal(old.error.status, 400);
});

test('updateUser({ email }): both addresses confirm with their codes, then the new address signs in', async () => {
  const oldEmail = address('change-old');
  const newEmail = address('change-new');
  const pw = password();
  const { c } = await signUp(oldEmail, pw);
  const taken = address('change-taken');
  await signUp(taken, password());
  const clash = await c.auth.updateUser({ email: taken });
  assert.equal(clash.error?.code, 'email_exists');
  assert.equal(clash.error?.status, 422);

  const bad = await c.auth.updateUser({ email: 'not-an-address' });
  assert.equal(bad.error?.status, 400);
  assert.equal(bad.error?.code, 'validation_failed');
  assert.equal(sql(`SELECT coalesce(email_change, '-') FROM auth.users WHERE email = '${oldEmail}'`), '-');

  const u = await c.auth.updateUser({ email: newEmail });
  assert.equal(u.error, null, u.error?.message);
  assert.equal(u.data.user.email, oldEmail, 'nothing changes before the codes');
  assert.equal(u.data.user.new_email, newEmail);
  assert.ok(u.data.user.email_change_sent_at);
  const toNew = await app.mail.codeFor(newEmail);
  const toOld = await app.mail.codeFor(oldEmail);
  // A wrong code is refused; the right one of one side is not enough.
  const wrong = await client().auth.verifyOtp({ email: newEmail, token: toNew === '0000' ? '1111' : '0000', type: 'email_change' });
  assert.equal(wrong.error?.code, 'otp_expired');
  const first = await client().auth.verifyOtp({ email: newEmail, token: toNew, type: 'email_change' });
  assert.equal(first.error, null, first.error?.message);
  assert.equal(first.data.session, null, 'the other address has not confirmed yet');
  assert.equal(sql(`SELECT email FROM auth.users WHERE email = '${oldEmail}'`), oldEmail);
  const second = await client().auth.verifyOtp({ email: oldEmail, token: toOld, type: 'email_change' });
  assert.equal(second.error, null, second.error?.message);
  assert.equal(second.data.user.email, newEmail);
  assert.ok(!second.data.user.new_email);
  assert.ok(second.data.session.access_token);

  assert.equal((await client().auth.signInWithPassword({ email: newEmail, password: pw })).error, null);
  const old = await client().auth.signInWithPassword({ email: oldEmail, password: pw });
  assert.equal(old.error?.code, 'invalid_credentials');
  // Used codes are spent.
  const replay = await client().auth.verifyOtp({ email: oldEmail, token: toOld, type: 'email_change' });
  assert.equal(replay.error?.code, 'otp_expired');
});

test('refreshSession rotates the refresh token, and auto-refresh refreshes an expiring session', async () => {
  const email = address('refresh');
  const { c, session } = await signUp(email, password());
  const r = await c.auth.refreshSession();
  assert.equal(r.error, null);
  assert.notEqual(r.data.session.refresh_token, session.refresh_token);
  assert.equal(r.data.user.email, email);

  const auto = client();
  await auto.auth.setSession({ access_token: r.data.session.access_token, refresh_token: r.data.session.refresh_token });
  const refreshed = new Promise((resolve) => {
    auto.auth.onAuthStateChange((event, s) => { if (event === 'TOKEN_REFRESHED') resolve(s); });
  });
  await auto.auth.startAutoRefresh();  // a 60 s token is within the refresh margin at once
  const s = await Promise.race([refreshed, new Promise((_, rej) => setTimeout(() => rej(new Error('no auto-refresh')), 20000))]);
  await auto.auth.stopAutoRefresh();
  assert.notEqual(s.refresh_token, r.data.session.refresh_token);
});

test('signOut: others, then local, then global', async () => {
  const email = address('signout');
  const pw = password();
  await signUp(email, pw);
  const a = client();
  const b = client();
  const d = client();
  for (const c of [a, b, d]) assert.equal((await c.auth.signInWithPassword({ email, password: pw })).error, null);
  assert.equal((await a.auth.signOut({ scope: 'others' })).error, null);
  assert.equal((await a.auth.getUser()).error, null, 'the caller keeps its session');
  const bUser = await b.auth.getUser();
  assert.ok(bUser.error, 'the other sessions are gone');
  assert.equal((await a.auth.signOut({ scope: 'local' })).error, null);
  assert.equal(sql(`SELECT count(*) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = '${email}'`), '0');
  const e = client();
  const f = client();
  for (const c of [e, f]) assert.equal((await c.auth.signInWithPassword({ email, password: pw })).error, null);
  assert.equal((await e.auth.signOut({ scope: 'global' })).error, null);
  assert.equal(sql(`SELECT count(*) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id WHERE u.email = '${email}'`), '0');
});

test('error codes auth-js maps: wrong password, wrong code, replayed refresh token, deleted session', async () => {
  const email = address('errors');
  const pw = password();
  const { c } = await signUp(email, pw);
  const wrong = await client().auth.signInWithPassword({ email, password: 'not-the-password' });
  assert.equal(wrong.error.code, 'invalid_credentials');

  const otp = client();
  await otp.auth.signInWithOtp({ email });
  await app.mail.codeFor(email);
  const bad = await otp.auth.verifyOtp({ email, token: '0000', type: 'email' });
  assert.ok(bad.error instanceof AuthApiError);
  assert.equal(bad.error.code, 'otp_expired');
  assert.equal(bad.error.status, 403);

  // Replay: a second session of the same user is revoked too. (The token's
  // child is used first: a used token whose child is unused, within 10 s,
  // is a lost answer and gets that child back.)
  const other = client();
  assert.equal((await other.auth.signInWithPassword({ email, password: pw })).error, null);
  const { data } = await c.auth.getSession();
  const oldRefresh = data.session.refresh_token;
  assert.equal((await c.auth.refreshSession()).error, null);
  assert.equal((await c.auth.refreshSession()).error, null);
  const replay = await client().auth.refreshSession({ refresh_token: oldRefresh });
  assert.equal(replay.error.code, 'refresh_token_already_used');
  const otherUser = await other.auth.getUser();
  assert.ok(otherUser.error, 'every session of the user was revoked');
  assert.ok(otherUser.error.code === 'session_not_found' || otherUser.error.name === 'AuthSessionMissingError',
    `${otherUser.error.name} ${otherUser.error.code}`);
});

test('security: 50 concurrent refreshes of one token rotate it once, and all get that one child', async () => {
  // One rotation wins the row lock; the 49 others find the token used and
  // its child unused, within the reuse window, and get the same child.
  const email = address('race');
  const { session } = await signUp(email, password());
  const refresh = (token) => fetch(`${app.authUrl}/token?grant_type=refresh_token`, {
    method: 'POST',
    headers: { apikey: app.publishableKey, 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: token }),
  });
  const answers = await Promise.all(Array.from({ length: 50 }, () => refresh(session.refresh_token)));
  const bodies = await Promise.all(answers.map((r) => r.json()));
  assert.deepEqual(answers.map((r) => r.status), Array(50).fill(200), JSON.stringify(bodies.find((b) => !b.refresh_token)));
  const children = new Set(bodies.map((b) => b.refresh_token));
  assert.equal(children.size, 1);
  assert.equal(sql(`SELECT count(*) FROM auth.refresh_tokens t JOIN auth.users u ON u.id = t.user_id WHERE u.email = '${email}' AND NOT t.revoked`), '1');
  assert.equal((await refresh(bodies[0].refresh_token)).status, 200, 'the one child rotates on');
});

test('security: a code dies after 5 wrong tries, even for the right code afterwards', async () => {
  const email = address('burn');
  await signUp(email, password());
  const c = client();
  await c.auth.signInWithOtp({ email });
  const token = await app.mail.codeFor(email);
  const wrongCode = token === '0000' ? '1111' : '0000';
  for (let i = 0; i < 5; i++) {
    assert.equal((await c.auth.verifyOtp({ email, token: wrongCode, type: 'email' })).error.code, 'otp_expired');
  }
  assert.equal(sql(`SELECT attempts FROM auth.one_time_codes WHERE recipient = '${email}' AND kind = 'email'`), '5');
  // Five wrong codes also lock the address for 15 minutes...
  const locked = await c.auth.verifyOtp({ email, token, type: 'email' });
  assert.equal(locked.error.code, 'over_request_rate_limit');
  // ...and once the lock is over (time passing, here), the code is still dead.
  sql(`UPDATE auth.code_lockouts SET locked_until = now() - interval '1 second' WHERE recipient = '${email}'`);
  const late = await c.auth.verifyOtp({ email, token, type: 'email' });
  assert.equal(late.error.code, 'otp_expired');
});

test('security: sign-up of an existing address and recovery of an unknown one reveal nothing', async () => {
  const email = address('enum');
  await signUp(email, password());
  const fresh = address('enum-new');
  const existing = await client().auth.signUp({ email, password: password() });
  const newcomer = await client().auth.signUp({ email: fresh, password: password() });
  assert.equal(existing.error, null);
  assert.deepEqual(Object.keys(existing.data.user).sort(), Object.keys(newcomer.data.user).sort());
  assert.equal(existing.data.user.identities.length, 1, 'auth-js reads [] as "already registered"');
  assert.equal(newcomer.data.user.identities.length, 1);
  // Each address gets one mail: the newcomer a sign-up code, the owner a
  // note that they already have an account, with a sign-in code.
  const toOwner = await app.mail.take(email);
  assert.match(toOwner, /already has an account/);
  assert.match(await app.mail.take(fresh), /Your sign-up code/);
  const nobody = address('nobody');
  const unknown = await client().auth.resetPasswordForEmail(nobody);
  assert.equal(unknown.error, null);
  const notice = await app.mail.take(nobody);
  assert.match(notice, /no account uses it/);
  assert.doesNotMatch(notice, /Your code is/);
});
