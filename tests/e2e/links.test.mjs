// Email links beside the codes, driven by the unmodified auth-js: the
// server-side recipe (the link carries token_hash to the app, which calls
// verifyOtp({ token_hash })) and the PKCE flow (the link carries ?code=,
// which only the client holding the verifier can exchange).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { address, newPassword, recordSecret, startAppliance } from './appliance.mjs';

const site = 'https://app.example';
let app;
before(async () => {
  app = await startAppliance('links', {
    // otp_resend_seconds=1: the resend test need not wait a minute.
    settings: [`site_url="${site}"`, 'redirect_urls=["https://app.example/auth/"]', 'otp_resend_seconds=1'],
  });
});
after(async () => { await app?.stop(); });

const authClient = (flowType = 'implicit') => app.authClient({ flowType });
const sql = (query) => app.sql(query);
const password = newPassword;

async function post(path, body) {
  const r = await fetch(`${app.authUrl}${path}`, {
    method: 'POST',
    headers: { apikey: app.publishableKey, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

test('a magic link carries token_hash to the allowed redirect; verifyOtp({ token_hash }) signs in, once', async () => {
  const email = address('link');
  const c = authClient();
  const { error } = await c.signInWithOtp({ email, options: { emailRedirectTo: `${site}/auth/confirm?next=%2Fhome` } });
  assert.equal(error, null);
  const raw = await app.mail.take(email);
  const link = new URL(/Or open this link:\r?\n(\S+)\r?\n/.exec(raw)[1]);
  const code = /Your code is (\d+)\./.exec(raw)[1];
  assert.equal(`${link.origin}${link.pathname}`, `${site}/auth/confirm`);
  assert.equal(link.searchParams.get('next'), '/home', 'the app\'s own parameters stay');
  assert.equal(link.searchParams.get('type'), 'signup', 'a new address signs up');
  const tokenHash = link.searchParams.get('token_hash');
  assert.match(tokenHash, /^[A-Za-z0-9_-]{43}$/, '256 random bits');
  recordSecret(tokenHash);
  assert.equal(sql(`SELECT count(*) FROM auth.users WHERE email = '${email}'`), '0');

  const { data, error: verifyError } = await c.verifyOtp({ token_hash: tokenHash, type: 'signup' });
  assert.equal(verifyError, null);
  assert.equal(data.user.email, email);
  assert.ok(data.user.email_confirmed_at);
  assert.ok(data.session.access_token);

  // The link and the code of that mail are one: both are used up now.
  const again = await c.verifyOtp({ token_hash: tokenHash, type: 'signup' });
  assert.equal(again.error?.code, 'otp_expired');
  assert.equal(again.error?.status, 403);
  const byCode = await c.verifyOtp({ email, token: code, type: 'signup' });
  assert.equal(byCode.error?.code, 'otp_expired');
});

test('a redirect that is not allowed falls back to the site URL', async () => {
  const email = address('redirect');
  const { error } = await authClient().signInWithOtp({ email, options: { emailRedirectTo: 'https://app.example.evil.test/x' } });
  assert.equal(error, null);
  const link = await app.mail.linkFor(email);
  assert.equal(link.origin, site);
  assert.equal(link.pathname, '/');
});

test('token_hash of another type, a made-up one, or with other fields is refused and consumes nothing', async () => {
  const email = address('kinds');
  await authClient().signInWithOtp({ email });
  const tokenHash = (await app.mail.linkFor(email)).searchParams.get('token_hash');
  recordSecret(tokenHash);
  const wrongType = await post('/verify', { type: 'recovery', token_hash: tokenHash });
  assert.equal(wrongType.status, 403);
  assert.equal(wrongType.body.error_code, 'otp_expired');
  assert.match(wrongType.body.msg, /link is invalid or has expired/);
  const mixed = await post('/verify', { type: 'signup', token_hash: tokenHash, email });
  assert.equal(mixed.status, 400);
  assert.equal(mixed.body.error_code, 'validation_failed');
  const madeUp = await post('/verify', { type: 'signup', token_hash: 'A'.repeat(43) });
  assert.equal(madeUp.status, 403);
  const { error } = await authClient().verifyOtp({ token_hash: tokenHash, type: 'email' });
  assert.equal(error, null, 'the refusals above consumed nothing');
});

test('PKCE sign-up: the link carries ?code=, exchangeCodeForSession() signs in once, a bare token_hash cannot', async () => {
  const email = address('pkce');
  const c = authClient('pkce');
  const { error } = await c.signUp({ email, password: password(), options: { emailRedirectTo: `${site}/auth/callback` } });
  assert.equal(error, null);
  assert.equal(sql(`SELECT count(*) FROM auth.one_time_codes WHERE recipient = '${email}' AND code_challenge_method = 's256'`), '1');
  const link = await app.mail.linkFor(email);
  assert.equal(`${link.origin}${link.pathname}`, `${site}/auth/callback`);
  assert.equal(link.searchParams.get('token_hash'), null);
  const authCode = link.searchParams.get('code');
  recordSecret(authCode);
  const asHash = await post('/verify', { type: 'signup', token_hash: authCode });
  assert.equal(asHash.status, 403, 'a PKCE-bound link needs the verifier');

  const { data, error: exchangeError } = await c.exchangeCodeForSession(authCode);
  assert.equal(exchangeError, null);
  assert.equal(data.user.email, email);
  assert.ok(data.session.refresh_token);
  const { data: me } = await c.getUser(data.session.access_token);
  assert.equal(me.user.id, data.user.id);

  const replay = await post('/token?grant_type=pkce', { auth_code: authCode, code_verifier: 'x'.repeat(43) });
  assert.equal(replay.status, 404);
  assert.equal(replay.body.error_code, 'flow_state_not_found');
});

test('PKCE: a wrong verifier is refused and burns an attempt; after five the flow is dead even for the right one', async () => {
  const email = address('verifier');
  const c = authClient('pkce');
  await c.signInWithOtp({ email, options: { emailRedirectTo: `${site}/auth/callback` } });
  const authCode = (await app.mail.linkFor(email)).searchParams.get('code');
  recordSecret(authCode);
  for (let i = 1; i <= 5; i++) {
    const r = await post('/token?grant_type=pkce', { auth_code: authCode, code_verifier: `wrong-${i}-${'v'.repeat(40)}` });
    assert.equal(r.status, 400);
    assert.equal(r.body.error_code, 'bad_code_verifier');
    assert.equal(sql(`SELECT attempts FROM auth.one_time_codes WHERE recipient = '${email}'`), String(i));
  }
  const { error } = await c.exchangeCodeForSession(authCode);
  assert.equal(error?.code, 'flow_state_not_found');
  const missing = await post('/token?grant_type=pkce', { auth_code: authCode });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.error_code, 'validation_failed');
});

test('PKCE password reset: resetPasswordForEmail → link → exchangeCodeForSession → updateUser', async () => {
  const email = address('reset');
  const first = password();
  const signup = authClient();
  await signup.signUp({ email, password: first });
  const code = await app.mail.codeFor(email);
  assert.equal((await signup.verifyOtp({ email, token: code, type: 'signup' })).error, null);

  const c = authClient('pkce');
  const { error } = await c.resetPasswordForEmail(email, { redirectTo: `${site}/auth/reset` });
  assert.equal(error, null);
  const link = await app.mail.linkFor(email);
  assert.equal(link.pathname, '/auth/reset');
  const authCode = link.searchParams.get('code');
  recordSecret(authCode);
  const { data, error: exchangeError } = await c.exchangeCodeForSession(authCode);
  assert.equal(exchangeError, null);
  assert.equal(data.redirectType, 'recovery', 'auth-js reports the recovery flow');
  assert.equal(data.session.user.email, email);
  const second = password();
  assert.equal((await c.updateUser({ password: second })).error, null);
  const signIn = await authClient().signInWithPassword({ email, password: second });
  assert.equal(signIn.error, null);
  assert.equal((await authClient().signInWithPassword({ email, password: first })).error?.code, 'invalid_credentials');
});

test('a malformed code_challenge is refused before anything is stored or sent', async () => {
  const email = address('challenge');
  const r = await post('/otp', { email, code_challenge: 'short', code_challenge_method: 's256' });
  assert.equal(r.status, 400);
  assert.equal(r.body.error_code, 'validation_failed');
  const noMethod = await post('/otp', { email, code_challenge: 'c'.repeat(43) });
  assert.equal(noMethod.status, 400);
  assert.equal(sql(`SELECT count(*) FROM auth.one_time_codes WHERE recipient = '${email}'`), '0');
  assert.ok(await app.mail.silentFor(email, 500));
});

test('resend({ type: "email_change" }) mails both sides again; the first codes die, the new ones (or links) apply it', async () => {
  const oldEmail = address('change-old');
  const newEmail = address('change-new');
  const signup = authClient();
  await signup.signUp({ email: oldEmail, password: password() });
  const { data: signedIn } = await signup.verifyOtp({ email: oldEmail, token: await app.mail.codeFor(oldEmail), type: 'signup' });
  const c = authClient();
  await c.setSession(signedIn.session);
  assert.equal((await c.updateUser({ email: newEmail })).error, null);
  const firstToNew = await app.mail.codeFor(newEmail);
  await app.mail.take(oldEmail);

  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await authClient().resend({ type: 'email_change', email: oldEmail })).error, null);
  const toNew = new URL(/Or open this link:\r?\n(\S+)\r?\n/.exec(await app.mail.take(newEmail))[1]);
  const toOldCode = await app.mail.codeFor(oldEmail);
  const stale = await authClient().verifyOtp({ email: newEmail, token: firstToNew, type: 'email_change' });
  assert.equal(stale.error?.code, 'otp_expired', 'the first code to the new address died with the resend');

  const tokenHash = toNew.searchParams.get('token_hash');
  recordSecret(tokenHash);
  assert.equal(toNew.searchParams.get('type'), 'email_change');
  const half = await authClient().verifyOtp({ token_hash: tokenHash, type: 'email_change' });
  assert.equal(half.error, null);
  assert.equal(half.data.session, null, 'one side confirmed: no session yet');
  const done = await authClient().verifyOtp({ email: oldEmail, token: toOldCode, type: 'email_change' });
  assert.equal(done.error, null);
  assert.equal(done.data.user.email, newEmail);

  // Nothing pending (or nobody there): {} and no mail.
  const nothing = address('nothing');
  assert.equal((await authClient().resend({ type: 'email_change', email: nothing })).error, null);
  assert.ok(await app.mail.silentFor(nothing, 300));
  const phone = await post('/resend', { type: 'sms', phone: '+15555550100' });
  assert.equal(phone.status, 400);
});
