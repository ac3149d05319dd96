// Social sign-in (OpenID Connect) for admins end to end: the real authd
// (admin.oauth in authd.yaml) against the local OpenID provider of
// oidc_provider.mjs (oidc-provider, HTTPS with the e2e certificate). The
// browser is Node's fetch following every redirect by hand with a cookie jar
// for the provider: GET /admin/v1/authorize (PKCE S256) -> the provider's
// hops -> /admin/v1/callback -> a 302 to redirect_to with ?code= (or
// ?error=...&error_code=...), then POST /admin/v1/token?grant_type=pkce.
//
// The callback URL is a fixed public name, CALLBACK, as behind a reverse
// proxy: the test's browser delivers the provider's redirect to it to the
// admin listener (see social_harness.mjs).
//
// One provider and one appliance for every test. signup_domains holds
// signup.example from the start (admin.oauth is read once at start: the
// providers are built in main, not on SIGHUP), so "no domain allowed" is
// tested with addresses of example.com.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import * as OTPAuth from 'otpauth';
import { recordSecret } from './appliance.mjs';
import { startOidcProvider } from './oidc_provider.mjs';
import {
  CALLBACK, REDIRECT, adminOAuthYaml, b64url, get, json, oidcProviderYaml, pkce, readTls, socialSignInHarness,
  startAdminAppliance, writeSecretFile,
} from './social_harness.mjs';

const CLIENT_ID = 'orbitnest-admin';
const clientSecret = randomBytes(24).toString('hex');
recordSecret(clientSecret);

// The provider's people. Objects shared with the provider (it keeps them by
// reference): changing `email` here changes what the provider says next.
const accounts = {
  ada: { sub: 'g-1001', email: 'ada@example.com', email_verified: true, name: 'Ada Admin' },
  eve: { sub: 'g-1002', email: 'eve@example.com', email_verified: false, name: 'Eve Unverified' },
  nomail: { sub: 'g-1003', name: 'No Mail' },
  stranger: { sub: 'g-1004', email: 'stranger@example.com', email_verified: true, name: 'A Stranger' },
  lookalike: { sub: 'g-1005', email: 'sly@signup.example.evil.test', email_verified: true, name: 'Sly' },
  newcomer: { sub: 'g-1006', email: 'nina@signup.example', email_verified: true, name: 'Nina New' },
  target: { sub: 'g-1007', email: 'target@example.com', email_verified: true, name: 'Target Admin' },
  mfa: { sub: 'g-1008', email: 'mfa-admin@example.com', email_verified: true, name: 'Mfa Admin' },
  isolated: { sub: 'g-1009', email: 'iso@signup.example', email_verified: true, name: 'Iso' },
  replay: { sub: 'g-1010', email: 'replay@signup.example', email_verified: true, name: 'Replay' },
};

let op;
let app;
let secretDir;
const {
  createAdmin, authorize, throughProvider, callback, exchange, finish, adminGet, passwordSignIn,
  adminList, adminIdOf, linkedTo, sessionCount, assertError,
} = socialSignInHarness({ app: () => app, standIn: () => op, provider: 'e2e' });

before(async () => {
  op = await startOidcProvider({
    ...readTls(),
    clients: [{ client_id: CLIENT_ID, client_secret: clientSecret, redirect_uris: [CALLBACK] }],
    accounts: Object.values(accounts),
  });
  secretDir = mkdtempSync('/tmp/orbitnest-e2e-oauth-');
  const secretFile = writeSecretFile(secretDir, 'client_secret', clientSecret);
  app = await startAdminAppliance('admin_social', adminOAuthYaml({
    providers: oidcProviderYaml('e2e', { issuer: op.issuer, clientId: CLIENT_ID, secretFile }),
  }));
  createAdmin(accounts.ada.email);
  createAdmin(accounts.target.email);
  createAdmin(accounts.mfa.email);
});
after(async () => {
  await app?.stop();
  await op?.stop();
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

// A whole browser leg as `account` (null: nobody signs in at the provider):
// authorize -> provider -> callback (with the binding cookie). Returns the
// callback URL, authd's answer to it, the final Location parsed, and the
// PKCE verifier. `override`: the provider's ID token changed (see
// oidc_provider.mjs); `jar`: the provider's cookies.
async function browserLeg(account, { override, jar } = {}) {
  const { res, verifier, cookie } = await authorize();
  assert.equal(res.status, 302, `authorize: ${JSON.stringify(await json(res))}`);
  assert.match(res.headers.get('set-cookie') ?? '', /^orbitnest-admin-oauth=[^;]+; Path=\/admin\/v1\/callback; .*Secure; HttpOnly; SameSite=Lax/);
  const toProvider = new URL(res.headers.get('location'));
  assert.equal(toProvider.origin, op.issuer);
  op.setNextLogin(account ? account.sub : null);
  if (override) op.setIdTokenOverride(override.fn, { signature: override.signature ?? 'provider' });
  const callbackUrl = await throughProvider(toProvider.href, jar);
  const answer = await callback(callbackUrl, cookie);
  op.setIdTokenOverride(null);  // an override the token endpoint never used must not leak into the next test
  assert.equal(answer.status, 302, `callback: HTTP ${answer.status} ${answer.body}`);
  return { callbackUrl, answer: answer.answer, location: answer.location, params: answer.params, verifier, cookie };
}

// The whole sign-in: the browser leg, then the code for a session.
const socialSignIn = async (account, options) => finish(await browserLeg(account, options));

test('an existing admin signs in through the provider: auto-linked by verified email, an oauth aal1 session; later by sub even after the email changed', async () => {
  const adaId = adminIdOf(accounts.ada.email);
  assert.ok(adaId, 'ada was created with the CLI');
  assert.equal(linkedTo(accounts.ada.sub), '', 'not linked before');
  const admins = adminList().length;

  const first = await socialSignIn(accounts.ada);
  // The browser leg: the state and PKCE went to the provider, back through the callback with iss.
  const callback = new URL(first.callbackUrl);
  assert.ok(callback.searchParams.get('state'));
  assert.equal(callback.searchParams.get('iss'), op.issuer);
  const authReq = op.requests.findLast((r) => r.path === '/auth' && r.query.client_id === CLIENT_ID);
  assert.equal(authReq.query.redirect_uri, CALLBACK);
  assert.equal(authReq.query.code_challenge_method, 'S256');
  assert.ok(authReq.query.nonce);
  assert.equal(first.answer.headers.get('referrer-policy'), 'no-referrer');

  const claims = decodeJwt(first.session.access_token);
  assert.equal(claims.sub, adaId);
  assert.equal(claims.role, 'admin');
  assert.equal(claims.aal, 'aal1');
  assert.deepEqual(claims.amr.map((m) => m.method), ['oauth']);
  const me = await adminGet('/me', first.session.access_token);
  assert.equal(me.status, 200);
  assert.equal(me.body.id, adaId);
  assert.equal(me.body.email, accounts.ada.email);
  assert.equal(linkedTo(accounts.ada.sub), adaId, 'linked now');
  assert.equal(adminList().length, admins, 'no admin added');
  // The session's refresh token works like a password session's.
  const refreshed = await fetch(`${app.adminUrl}/token?grant_type=refresh_token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: first.session.refresh_token }),
  });
  assert.equal(refreshed.status, 200);

  // The provider's account now has another address (same sub): still ada, by the link.
  const oldEmail = accounts.ada.email;
  accounts.ada.email = 'ada.renamed@elsewhere.example';
  try {
    const second = await socialSignIn(accounts.ada);
    // The provider did say the new address (kept with the identity).
    assert.equal(app.sql(`SELECT identity_data->>'email' FROM auth.admin_identities WHERE provider_id = '${accounts.ada.sub}'`),
      'ada.renamed@elsewhere.example');
    assert.equal(decodeJwt(second.session.access_token).sub, adaId);
    const again = await adminGet('/me', second.session.access_token);
    assert.equal(again.body.id, adaId);
    assert.equal(again.body.email, oldEmail, 'the admin\'s own address is not rewritten by the provider');
    assert.equal(adminList().length, admins, 'no admin added');
    assert.equal(adminIdOf('ada.renamed@elsewhere.example'), undefined);
  } finally {
    accounts.ada.email = oldEmail;
  }
});

test('email_verified false, or no email at all: provider_email_needs_verification, no admin added, nothing linked', async () => {
  const admins = adminList();
  const sessions = sessionCount();
  for (const account of [accounts.eve, accounts.nomail]) {
    const leg = await browserLeg(account);
    assertError(leg, 'provider_email_needs_verification');
    assert.equal(linkedTo(account.sub), '');
  }
  // eve@example.com becomes an admin: the unverified address still does not link to her.
  createAdmin(accounts.eve.email);
  const leg = await browserLeg(accounts.eve);
  assertError(leg, 'provider_email_needs_verification');
  assert.equal(linkedTo(accounts.eve.sub), '');
  assert.deepEqual(adminList().map((a) => a.email).sort(), [...admins.map((a) => a.email), accounts.eve.email].sort());
  assert.equal(sessionCount(), sessions, 'no session made');
});

test('an unknown verified address: signup_disabled outside signup_domains (a look-alike domain too); inside, a new admin signs in', async () => {
  const before = adminList().length;
  for (const account of [accounts.stranger, accounts.lookalike]) {
    const leg = await browserLeg(account);
    assertError(leg, 'signup_disabled');
    assert.equal(adminIdOf(account.email), undefined);
    assert.equal(linkedTo(account.sub), '');
  }
  assert.equal(adminList().length, before, 'no admin added');

  const { session } = await socialSignIn(accounts.newcomer);
  const id = adminIdOf(accounts.newcomer.email);
  assert.ok(id, 'a new admin in `authd admin list`');
  assert.equal(adminList().length, before + 1);
  assert.equal(linkedTo(accounts.newcomer.sub), id);
  const me = await adminGet('/me', session.access_token);
  assert.equal(me.status, 200);
  assert.equal(me.body.id, id);
  assert.equal(me.body.email, accounts.newcomer.email);
  assert.deepEqual(decodeJwt(session.access_token).amr.map((m) => m.method), ['oauth']);
  // The second time: the same admin, none added.
  const second = await socialSignIn(accounts.newcomer);
  assert.equal(decodeJwt(second.session.access_token).sub, id);
  assert.equal(adminList().length, before + 1);
});

test('a state serves one callback (bad_oauth_state), a code is burned by a wrong verifier, and serves one exchange', async () => {
  const leg = await browserLeg(accounts.replay);
  assert.ok(leg.params.code, leg.location.href);
  // The same callback URL again (a replayed or leaked provider redirect).
  const replay = await get(leg.callbackUrl, { cookie: leg.cookie });
  assert.equal(replay.status, 400);
  assert.equal(replay.headers.get('location'), null);
  assert.equal((await json(replay)).error_code, 'bad_oauth_state');
  // A state never issued.
  const forged = new URL(leg.callbackUrl);
  forged.searchParams.set('state', b64url(randomBytes(32)));
  const unknown = await get(forged.href, { cookie: leg.cookie });
  assert.equal(unknown.status, 400);
  assert.equal((await json(unknown)).error_code, 'bad_oauth_state');
  // No state.
  const stateless = await get(`${app.adminUrl}/callback?code=abc`);
  assert.equal(stateless.status, 400);
  assert.equal((await json(stateless)).error_code, 'bad_oauth_state');

  // The wrong verifier: refused, and the code is gone.
  const wrong = await exchange(leg.params.code, pkce().verifier);
  assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
  assert.equal(wrong.body.error_code, 'bad_code_verifier');
  assert.equal(wrong.body.access_token, undefined);
  const late = await exchange(leg.params.code, leg.verifier);
  assert.equal(late.status, 404, JSON.stringify(late.body));
  assert.equal(late.body.error_code, 'flow_state_not_found');

  // A code that worked: once only.
  const ok = await socialSignIn(accounts.replay);
  const twice = await exchange(ok.params.code, ok.verifier);
  assert.equal(twice.status, 404);
  assert.equal(twice.body.error_code, 'flow_state_not_found');
  // A code never issued, and a missing verifier.
  assert.equal((await exchange(b64url(randomBytes(24)), ok.verifier)).body.error_code, 'flow_state_not_found');
  const missing = await fetch(`${app.adminUrl}/token?grant_type=pkce`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ auth_code: ok.params.code }),
  });
  assert.equal(missing.status, 400);
  assert.equal((await json(missing)).error_code, 'validation_failed');
});

test('a tampered ID token never signs in: another aud, nonce, iss, a foreign key, alg none, HS256 with the client secret, expired, no ID token', async () => {
  const targetId = adminIdOf(accounts.target.email);
  const sessions = sessionCount();
  const now = () => Math.floor(Date.now() / 1000);
  // Each case with the reason authd must give (so that each fails for its own fault).
  const cases = {
    'another aud': { fn: (c) => { c.aud = 'another-client'; }, why: /another client/ },
    'several audiences, azp not us': { fn: (c) => { c.aud = [CLIENT_ID, 'another-client']; c.azp = 'another-client'; }, why: /several clients/ },
    'another nonce': { fn: (c) => { c.nonce = b64url(randomBytes(16)); }, why: /nonce/ },
    'no nonce': { fn: (c) => { delete c.nonce; }, why: /nonce/ },
    'another issuer': { fn: (c) => { c.iss = 'https://accounts.google.com'; }, why: /another issuer/ },
    'a foreign key under the provider\'s kid': { fn: () => {}, signature: 'foreign', why: /signature does not verify/ },
    'the provider\'s EC key under its RSA key\'s kid': { fn: (c, h) => { h.alg = 'ES256'; }, why: /signature does not verify|algorithm/ },
    'alg none': { fn: () => {}, signature: 'none', why: /algorithm not accepted/ },
    'alg none, no kid': { fn: (c, h) => { delete h.kid; }, signature: 'none', why: /algorithm not accepted/ },
    'HS256 keyed with the client secret': { fn: () => {}, signature: 'client_secret', why: /algorithm not accepted/ },
    'a kid the provider does not publish': { fn: (c, h) => { h.kid = 'unknown-kid'; }, why: /key the provider does not publish/ },
    expired: { fn: (c) => { c.iat = now() - 900; c.exp = now() - 600; }, why: /expired/ },
    'issued long ago': { fn: (c) => { c.iat = now() - 7200; }, why: /implausible time/ },
    'no ID token': { fn: () => null, why: /no ID token/ },
  };
  for (const [name, override] of Object.entries(cases)) {
    const leg = await browserLeg(accounts.target, { override });
    assert.equal(leg.params.code, undefined, `${name}: a code was issued`);
    assert.equal(leg.params.error_code, 'bad_oauth_callback', `${name}: ${leg.location.href}`);
    assert.match(leg.params.error_description, override.why, name);
    assert.equal(linkedTo(accounts.target.sub), '', `${name}: linked`);
  }
  assert.equal(sessionCount(), sessions, 'no session made');
  // The same account untampered: signs in (the cases failed for the token alone).
  const { session } = await socialSignIn(accounts.target);
  assert.equal(decodeJwt(session.access_token).sub, targetId);
  assert.equal(linkedTo(accounts.target.sub), targetId);
});

test('the provider denies (nobody signs in there): back to redirect_to with oauth_provider_error', async () => {
  const leg = await browserLeg(null);
  assertError(leg, 'oauth_provider_error');
  assert.match(leg.params.error_description, /access_denied/);
  assert.doesNotMatch(leg.params.error_description, /End-User aborted/);  // the provider's free text is not relayed
  // The state was spent by that answer.
  const again = await get(leg.callbackUrl, { cookie: leg.cookie });
  assert.equal(again.status, 400);
  assert.equal((await json(again)).error_code, 'bad_oauth_state');
});

test('authorize checks its input: unknown provider, redirect_to outside the list, PKCE missing or not S256', async () => {
  const expect = async (query, status, code) => {
    const { res } = await authorize(query);
    const body = await json(res);
    assert.equal(res.status, status, `${JSON.stringify(query)}: ${JSON.stringify(body)}`);
    assert.equal(res.headers.get('location'), null);
    assert.equal(body.error_code, code, JSON.stringify(query));
  };
  const before = op.requests.length;
  await expect({ provider: 'google' }, 400, 'oauth_provider_not_supported');
  await expect({ provider: undefined }, 400, 'oauth_provider_not_supported');
  for (const redirectTo of ['https://evil.example/after', 'https://studio.example.evil.test/after',
    'https://studio.example/afterwards', 'http://studio.example/after', 'javascript:alert(1)']) {
    await expect({ redirect_to: redirectTo }, 400, 'validation_failed');
  }
  await expect({ redirect_to: undefined }, 400, 'validation_failed');
  await expect({ code_challenge: undefined }, 400, 'validation_failed');
  await expect({ code_challenge: undefined, code_challenge_method: undefined }, 400, 'validation_failed');
  await expect({ code_challenge_method: 'plain' }, 400, 'validation_failed');
  await expect({ code_challenge: 'too-short' }, 400, 'validation_failed');
  assert.equal(op.requests.length, before, 'the provider was never asked');
  // A redirect_to under the allowed one, with a query of its own: accepted, the code appended.
  const { res } = await authorize({ redirect_to: `${REDIRECT}/deeper?tab=keys` });
  assert.equal(res.status, 302);
});

test('the admin token of a social sign-in is refused by a project\'s API', async () => {
  const { session } = await socialSignIn(accounts.isolated);
  const res = await fetch(`${app.authUrl}/user`, {
    headers: { apikey: app.publishableKey, Authorization: `Bearer ${session.access_token}` },
  });
  const body = await json(res);
  assert.ok([401, 403].includes(res.status), `HTTP ${res.status} ${JSON.stringify(body)}`);
  assert.equal(body.error_code ?? body.code, 'bad_jwt');
  // The admin API takes it.
  assert.equal((await adminGet('/me', session.access_token)).status, 200);
});

test('an admin with a TOTP factor: the social sign-in answers mfa_required, finished at /mfa/verify (aal2, amr oauth + totp)', async () => {
  const email = accounts.mfa.email;
  const first = await passwordSignIn(email);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const token = first.body.access_token;
  const post = async (path, body, bearer) => {
    const res = await fetch(`${app.adminUrl}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await json(res) };
  };
  const enrolled = await post('/factors', { factor_type: 'totp' }, token);
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  recordSecret(enrolled.body.totp.secret);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(enrolled.body.totp.secret), algorithm: 'SHA1', digits: 6, period: 30 });
  const challenge = await post(`/factors/${enrolled.body.id}/challenge`, {}, token);
  assert.equal(challenge.status, 200);
  const verified = await post(`/factors/${enrolled.body.id}/verify`, { challenge_id: challenge.body.id, code: totp.generate() }, token);
  assert.equal(verified.status, 200, JSON.stringify(verified.body));

  const leg = await browserLeg(accounts.mfa);
  assert.ok(leg.params.code, leg.location.href);
  const pending = await exchange(leg.params.code, leg.verifier);
  assert.equal(pending.status, 200, JSON.stringify(pending.body));
  assert.equal(pending.body.mfa_required, true);
  assert.equal(pending.body.access_token, undefined);
  assert.equal(pending.body.refresh_token, undefined);
  assert.ok(pending.body.challenge_token);
  assert.equal(pending.body.factors.length, 1);
  // The next time step (each accepted step must be newer than the last).
  const done = await post('/mfa/verify', { challenge_token: pending.body.challenge_token, code: totp.generate({ timestamp: Date.now() + 30000 }) });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const claims = decodeJwt(done.body.access_token);
  assert.equal(claims.aal, 'aal2');
  assert.equal(claims.sub, adminIdOf(email));
  assert.deepEqual(claims.amr.map((m) => m.method).sort(), ['oauth', 'totp']);
  assert.equal((await adminGet('/me', done.body.access_token)).body.email, email);
});

test('a flow past its 10 minutes is bad_oauth_state, a code past its 5 minutes is flow_state_expired (and burned)', async () => {
  // The browser leg up to the provider's redirect, then the flow ages.
  const { res, cookie } = await authorize();
  assert.equal(res.status, 302);
  op.setNextLogin(accounts.newcomer.sub);
  const callbackUrl = await throughProvider(res.headers.get('location'));
  app.sql("UPDATE auth.oauth_flows SET expires_at = now() - interval '1 second'");
  const stale = await get(callbackUrl, { cookie });
  assert.equal(stale.status, 400);
  assert.equal((await json(stale)).error_code, 'bad_oauth_state');

  const leg = await browserLeg(accounts.newcomer);
  assert.ok(leg.params.code, leg.location.href);
  app.sql("UPDATE auth.oauth_codes SET expires_at = now() - interval '1 second'");
  const late = await exchange(leg.params.code, leg.verifier);
  assert.equal(late.status, 422, JSON.stringify(late.body));
  assert.equal(late.body.error_code, 'flow_state_expired');
  assert.equal((await exchange(leg.params.code, leg.verifier)).body.error_code, 'flow_state_not_found');
});

test('a banned admin: the callback answers user_banned, and a code issued before the ban makes no session', async () => {
  const email = accounts.newcomer.email;
  const before = await browserLeg(accounts.newcomer);
  assert.ok(before.params.code, before.location.href);
  app.authdCli('admin', 'ban', email);
  try {
    const sessions = sessionCount();
    const leg = await browserLeg(accounts.newcomer);
    assertError(leg, 'user_banned');
    const held = await exchange(before.params.code, before.verifier);
    assert.equal(held.status, 400, JSON.stringify(held.body));
    assert.equal(held.body.access_token, undefined);
    assert.equal(held.body.error_code, 'user_banned');
    assert.equal(sessionCount(), sessions, 'no session made');
  } finally {
    app.authdCli('admin', 'unban', email);
  }
  await socialSignIn(accounts.newcomer);
});
