// Admin sign-in with GitHub end to end: the real authd (admin.oauth,
// providers of kind github) against the GitHub stand-in of
// github_stand_in.mjs (GitHub's OAuth web flow and REST shapes, HTTPS with
// the e2e certificate). Same browser legs as admin_social.test.mjs (the
// OpenID Connect version): GET /admin/v1/authorize?provider=github (PKCE
// S256) -> the stand-in's authorization endpoint, which redirects at once to
// CALLBACK?code&state (or ?error=access_denied) -> the test delivers that
// query to the admin listener's /callback (CALLBACK is a public name, as
// behind a reverse proxy: see social_harness.mjs) with the cookies the
// admin listener set at /authorize (each flow in a browser, a cookie jar, of
// its own: authd binds a flow to the browser that began it) -> a 302 to redirect_to
// with ?code= (or ?error=...&error_code=...) -> POST /admin/v1/token?grant_type=pkce.
//
// What GitHub's identity is to authd: the subject is the user's numeric id
// (a login can be renamed and then taken by someone else), the email is the
// PRIMARY address of /user/emails and only when it is verified (not /user's
// public `email`, not another verified address), the name is `name` or else
// `login`. The linking rules are OpenID Connect's.
//
// Three providers: github (the right secret), github-bad (the same client id
// and stand-in with a wrong secret: GitHub's answer to that is HTTP 200 with
// {"error":"incorrect_client_credentials"}), and e2e, the local OpenID
// provider, for an admin with both kinds of identity.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { recordSecret } from './appliance.mjs';
import { startGitHubStandIn } from './github_stand_in.mjs';
import { startOidcProvider } from './oidc_provider.mjs';
import {
  CALLBACK, CookieJar, REDIRECT, adminOAuthYaml, get, githubProviderYaml, json, oidcProviderYaml, readTls,
  socialSignInHarness, startAdminAppliance, writeSecretFile,
} from './social_harness.mjs';

const CLIENT_ID = 'Iv1.0rb1tn35tadm1n';
const OIDC_CLIENT_ID = 'orbitnest-admin';
const clientSecret = randomBytes(20).toString('hex');
const wrongSecret = randomBytes(20).toString('hex');
const oidcSecret = randomBytes(24).toString('hex');
for (const s of [clientSecret, wrongSecret, oidcSecret]) recordSecret(s);

// GitHub's people, shared with the stand-in by reference: a change here is
// what GitHub says next. ids are GitHub's numbers.
const primary = (email, verified = true) => ({ email, primary: true, verified });
const other = (email, verified = true) => ({ email, primary: false, verified });
const gh = {
  ada: { login: 'ada-gh', id: 91000001, name: 'Ada Hub', email: null, emails: [primary('ada.gh@example.com'), other('ada@hobby.example')] },
  // Verified, but not primary: the admin's address must not link.
  sly: { login: 'sly-secondary', id: 91000002, name: 'Sly', email: null, emails: [primary('sly@example.com'), other('target.gh@example.com')] },
  slyUnverified: { login: 'sly-unverified', id: 91000003, name: null, email: null, emails: [primary('sly2@example.com', false), other('target.gh@example.com')] },
  // An unverified primary address that is an admin's; the public profile address says another admin's.
  eve: { login: 'eve-gh', id: 91000004, name: 'Eve', email: 'target.gh@example.com', emails: [primary('eve.gh@example.com', false)] },
  nomail: { login: 'no-mail', id: 91000005, name: 'No Mail', email: null, emails: [] },
  target: { login: 'target-gh', id: 91000006, name: 'Target', email: null, emails: [primary('target.gh@example.com')] },
  newcomer: { login: 'nina-new', id: 91000007, name: null, email: null, emails: [primary('nina.gh@signup.example')] },
  stranger: { login: 'stranger', id: 91000008, name: 'Stranger', email: null, emails: [primary('stranger.gh@example.com')] },
  both: { login: 'both-kinds', id: 91000009, name: 'Both', email: 'both@example.com', emails: [primary('both@example.com')] },
  burner: { login: 'burner', id: 91000010, name: 'Burner', email: null, emails: [primary('burner@signup.example')] },
};
const oidcAccounts = {
  both: { sub: 'g-2001', email: 'both@example.com', email_verified: true, name: 'Both OIDC' },
};

let hub;
let op;
let app;
let secretDir;
// The OpenID provider is the stand-in of throughProvider (oidcLeg); the
// GitHub stand-in answers its authorization request with one redirect.
const harness = socialSignInHarness({ app: () => app, standIn: () => op, provider: 'github' });
const {
  createAdmin, throughProvider, toListener, callback, finish, adminGet, adminList, adminIdOf, sessionCount, assertError,
} = harness;

before(async () => {
  const { tlsCert, tlsKey } = readTls();
  hub = await startGitHubStandIn({
    tlsCert,
    tlsKey,
    clients: [{ client_id: CLIENT_ID, client_secret: clientSecret, callback_url: CALLBACK }],
    accounts: Object.values(gh),
  });
  op = await startOidcProvider({
    tlsCert,
    tlsKey,
    clients: [{ client_id: OIDC_CLIENT_ID, client_secret: oidcSecret, redirect_uris: [CALLBACK] }],
    accounts: Object.values(oidcAccounts),
  });
  secretDir = mkdtempSync('/tmp/orbitnest-e2e-github-');
  const github = (name, secret) => githubProviderYaml(name,
    { standIn: hub, clientId: CLIENT_ID, secretFile: writeSecretFile(secretDir, name, secret) });
  app = await startAdminAppliance('admin_github', adminOAuthYaml({
    providers: [
      ...github('github', clientSecret),
      ...github('github-bad', wrongSecret),
      ...oidcProviderYaml('e2e', { issuer: op.issuer, clientId: OIDC_CLIENT_ID, secretFile: writeSecretFile(secretDir, 'oidc', oidcSecret) }),
    ],
  }));
  for (const email of ['ada.gh@example.com', 'target.gh@example.com', 'eve.gh@example.com', 'both@example.com']) createAdmin(email);
});
after(async () => {
  await app?.stop();
  await hub?.stop();
  await op?.stop();
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

// GET /authorize for `provider` (PKCE S256, REDIRECT) from `browser` (a
// cookie jar for the admin listener: authd binds the flow to the browser
// that began it with a cookie scoped to the callback's path).
async function authorize(provider, browser) {
  const { res, verifier } = await harness.authorize({ provider });
  assert.equal(res.status, 302, `authorize ${provider}: ${JSON.stringify(await json(res))}`);
  browser.store(res);
  return { location: new URL(res.headers.get('location')), verifier };
}

// The GitHub leg up to the callback URL (not delivered), in a browser of
// its own: `login` signs in at the stand-in (null: the user cancels there).
async function toCallback(login, provider = 'github') {
  const browser = new CookieJar();
  const { location, verifier } = await authorize(provider, browser);
  assert.equal(`${location.origin}${location.pathname}`, hub.authorizeUrl);
  hub.setNextLogin(login);
  const res = await get(location.href);
  assert.equal(res.status, 302, `the stand-in: HTTP ${res.status} ${await res.text()}`);
  return { callbackUrl: toListener(res.headers.get('location')), verifier, browser };
}

// Delivers a callback URL from `browser`: authd's answer, its Location parsed.
async function deliver(callbackUrl, verifier, browser) {
  const answer = await callback(callbackUrl, browser.header(callbackUrl));
  browser.store(answer.answer);
  assert.equal(answer.status, 302, `callback: HTTP ${answer.status} ${answer.body}`);
  return { callbackUrl, answer: answer.answer, location: answer.location, params: answer.params, verifier, browser };
}

async function githubLeg(account, provider = 'github') {
  const { callbackUrl, verifier, browser } = await toCallback(account ? account.login : null, provider);
  return deliver(callbackUrl, verifier, browser);
}

// The OpenID Connect leg as `account`: the provider's hops with its cookies
// in a jar of their own, the callback from the browser that began the flow.
async function oidcLeg(account) {
  const browser = new CookieJar();
  const { location, verifier } = await authorize('e2e', browser);
  op.setNextLogin(account.sub);
  return deliver(await throughProvider(location.href), verifier, browser);
}

const githubSignIn = async (account) => finish(await githubLeg(account));

const linkedTo = (account, provider = 'github') => app.sql(
  `SELECT string_agg(user_id::text, ',') FROM auth.admin_identities WHERE provider = '${provider}' AND provider_id = '${account.id ?? account.sub}'`);
const identityData = (account, field) => app.sql(
  `SELECT identity_data->>'${field}' FROM auth.admin_identities WHERE provider = 'github' AND provider_id = '${account.id}'`);

// The client secret of a token request (in the form, or by HTTP Basic).
function clientSecretOf(request) {
  if (request.form.client_secret !== undefined) return request.form.client_secret;
  const basic = /^basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return basic ? decodeURIComponent(Buffer.from(basic[1], 'base64').toString().split(':')[1]) : undefined;
}

test('an existing admin signs in with GitHub: auto-linked by the verified primary address (id as the subject), an oauth aal1 session', async () => {
  const adaId = adminIdOf('ada.gh@example.com');
  assert.ok(adaId);
  assert.equal(linkedTo(gh.ada), '', 'not linked before');
  const admins = adminList().length;
  const mark = hub.requests.length;

  const first = await githubSignIn(gh.ada);
  assert.equal(first.answer.headers.get('referrer-policy'), 'no-referrer');
  const claims = decodeJwt(first.session.access_token);
  assert.equal(claims.sub, adaId);
  assert.equal(claims.role, 'admin');
  assert.equal(claims.aal, 'aal1');
  assert.deepEqual(claims.amr.map((m) => m.method), ['oauth']);
  const me = await adminGet('/me', first.session.access_token);
  assert.equal(me.status, 200);
  assert.equal(me.body.id, adaId);
  assert.equal(me.body.email, 'ada.gh@example.com');
  assert.equal(linkedTo(gh.ada), adaId, 'linked now, under the numeric id');
  assert.equal(identityData(gh.ada, 'login'), 'ada-gh');
  assert.equal(adminList().length, admins, 'no admin added');
  const refreshed = await fetch(`${app.adminUrl}/token?grant_type=refresh_token`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ refresh_token: first.session.refresh_token }),
  });
  assert.equal(refreshed.status, 200);

  // What authd asked GitHub, and how.
  const seen = hub.requests.slice(mark);
  const auth = seen.find((r) => r.path === '/login/oauth/authorize');
  assert.equal(auth.query.client_id, CLIENT_ID);
  assert.equal(auth.query.redirect_uri, CALLBACK);
  assert.deepEqual(auth.query.scope.split(/[ ,]+/).sort(), ['read:user', 'user:email']);
  assert.ok(auth.query.state && auth.query.state.length >= 32, 'a state');
  assert.equal(auth.query.code_challenge_method, 'S256');
  const token = seen.find((r) => r.path === '/login/oauth/access_token');
  assert.equal(token.method, 'POST');
  assert.match(token.headers.accept, /application\/json/);
  assert.ok(token.headers['user-agent'], 'a User-Agent at the token endpoint');
  assert.equal(token.form.redirect_uri, CALLBACK);
  assert.ok(token.form.code_verifier, 'our PKCE verifier');
  assert.notEqual(token.form.code_verifier, first.verifier, 'authd\'s own verifier, not the browser\'s');
  for (const path of ['/api/user', '/api/user/emails']) {
    const call = seen.find((r) => r.path === path);
    assert.ok(call, `authd called ${path}`);
    assert.equal(call.method, 'GET');
    assert.ok(call.headers['user-agent'], `a User-Agent for ${path}`);
    assert.match(call.headers.authorization, /^(Bearer|token) gho_/i);
  }
});

test('a later sign-in goes by the id: after the primary address changed, and after the login was renamed', async () => {
  const adaId = adminIdOf('ada.gh@example.com');
  await githubSignIn(gh.ada);  // linked (whatever test ran first)
  const saved = { login: gh.ada.login, emails: gh.ada.emails };
  gh.ada.emails = [primary('ada.renamed@elsewhere.example'), other('ada.gh@example.com', false)];
  gh.ada.login = 'ada-renamed';
  try {
    const again = await githubSignIn(gh.ada);
    assert.equal(decodeJwt(again.session.access_token).sub, adaId);
    const me = await adminGet('/me', again.session.access_token);
    assert.equal(me.body.email, 'ada.gh@example.com', 'the admin\'s own address is not rewritten by GitHub');
    assert.equal(identityData(gh.ada, 'email'), 'ada.renamed@elsewhere.example', 'what GitHub said is kept with the identity');
    assert.equal(identityData(gh.ada, 'login'), 'ada-renamed');
    assert.equal(adminIdOf('ada.renamed@elsewhere.example'), undefined, 'no admin added');

    // Someone else takes the old login (another id, an address nobody has): not ada.
    gh.burner.login = 'ada-gh';
    const squatter = await githubSignIn(gh.burner);
    const burnerId = adminIdOf('burner@signup.example');
    assert.ok(burnerId, 'a new admin for the other id (signup.example)');
    assert.equal(decodeJwt(squatter.session.access_token).sub, burnerId);
    assert.notEqual(burnerId, adaId);
    assert.equal(linkedTo(gh.ada), adaId);
  } finally {
    gh.ada.login = saved.login;
    gh.ada.emails = saved.emails;
    gh.burner.login = 'burner';
  }
});

test('only the primary address counts: a verified non-primary address equal to an admin\'s does not link', async () => {
  const targetId = adminIdOf('target.gh@example.com');
  const admins = adminList().length;
  const sessions = sessionCount();
  // Primary verified (not an admin's, not in signup_domains), the admin's address verified but secondary.
  const sly = await githubLeg(gh.sly);
  assertError(sly, 'signup_disabled');
  // Primary unverified, the admin's address verified but secondary.
  const sly2 = await githubLeg(gh.slyUnverified);
  assertError(sly2, 'provider_email_needs_verification');
  assert.equal(linkedTo(gh.sly), '');
  assert.equal(linkedTo(gh.slyUnverified), '');
  assert.ok(!app.sql(`SELECT string_agg(provider_id, ',') FROM auth.admin_identities WHERE user_id = '${targetId}'`)
    .split(',').some((sub) => [String(gh.sly.id), String(gh.slyUnverified.id)].includes(sub)), 'nothing linked to the target');
  assert.equal(adminList().length, admins, 'no admin added');
  assert.equal(sessionCount(), sessions, 'no session made');
});

test('an unverified primary address (even an admin\'s, even with an admin\'s public profile address) or none: provider_email_needs_verification', async () => {
  const sessions = sessionCount();
  const eve = await githubLeg(gh.eve);
  assertError(eve, 'provider_email_needs_verification');
  assert.equal(linkedTo(gh.eve), '');
  const none = await githubLeg(gh.nomail);
  assertError(none, 'provider_email_needs_verification');
  assert.equal(linkedTo(gh.nomail), '');
  assert.equal(sessionCount(), sessions, 'no session made');
  // Verified at GitHub now: eve is linked and signs in.
  gh.eve.emails[0].verified = true;
  try {
    const { session } = await githubSignIn(gh.eve);
    assert.equal(decodeJwt(session.access_token).sub, adminIdOf('eve.gh@example.com'));
  } finally {
    gh.eve.emails[0].verified = false;
  }
});

test('an unknown verified primary address: signup_disabled outside signup_domains; inside, a new admin named by login when GitHub has no name', async () => {
  const before = adminList().length;
  assertError(await githubLeg(gh.stranger), 'signup_disabled');
  assert.equal(adminIdOf('stranger.gh@example.com'), undefined);
  assert.equal(adminList().length, before);

  const { session } = await githubSignIn(gh.newcomer);
  const id = adminIdOf('nina.gh@signup.example');
  assert.ok(id, 'a new admin');
  assert.equal(linkedTo(gh.newcomer), id);
  assert.equal(decodeJwt(session.access_token).sub, id);
  const me = await adminGet('/me', session.access_token);
  assert.equal(me.body.email, 'nina.gh@signup.example');
  assert.equal(app.sql(`SELECT raw_user_meta_data->>'name' FROM auth.admin_users WHERE id = '${id}'`), 'nina-new', 'GitHub has no name: the login');
});

test('a code GitHub refuses (HTTP 200 with {error}): reused, another flow\'s, expired, or a wrong client secret -> bad_oauth_callback', async () => {
  const sessions = sessionCount();
  const linkedBefore = linkedTo(gh.target);
  // Reuse: flow B's callback carrying the code authd already redeemed in flow A.
  const a = await githubSignIn(gh.target);
  const b = await toCallback(gh.target.login);
  const used = new URL(b.callbackUrl);
  used.searchParams.set('code', new URL(a.callbackUrl).searchParams.get('code'));
  const reuse = await deliver(used.href, b.verifier, b.browser);
  assertError(reuse, 'bad_oauth_callback');
  assert.match(reuse.params.error_description, /bad_verification_code/);
  const answered = hub.requests.findLast((r) => r.path === '/login/oauth/access_token');
  assert.equal(answered.form.code, used.searchParams.get('code'), 'authd did ask GitHub');

  // Injection: an unused code of flow C in flow D's callback (D's PKCE verifier does not fit C's challenge).
  const c = await toCallback(gh.target.login);
  const d = await toCallback(gh.target.login);
  const injected = new URL(d.callbackUrl);
  injected.searchParams.set('code', new URL(c.callbackUrl).searchParams.get('code'));
  assertError(await deliver(injected.href, d.verifier, d.browser), 'bad_oauth_callback');

  // A code past GitHub's 10 minutes.
  const e = await toCallback(gh.target.login);
  hub.expireCodes();
  assertError(await deliver(e.callbackUrl, e.verifier, e.browser), 'bad_oauth_callback');

  // github-bad: the same app with a wrong secret.
  const bad = await githubLeg(gh.target, 'github-bad');
  assertError(bad, 'bad_oauth_callback');
  assert.match(bad.params.error_description, /incorrect_client_credentials/);
  assert.equal(clientSecretOf(hub.requests.findLast((r) => r.path === '/login/oauth/access_token')), wrongSecret);

  assert.equal(sessionCount(), sessions + 1, 'only flow A made a session');
  assert.equal(linkedTo(gh.target), linkedBefore || adminIdOf('target.gh@example.com'));
});

test('the user cancels at GitHub (access_denied): back to redirect_to with oauth_provider_error, the state spent', async () => {
  const mark = hub.requests.length;
  const leg = await githubLeg(null);
  assertError(leg, 'oauth_provider_error');
  assert.match(leg.params.error_description, /access_denied/);
  assert.equal(hub.requests.slice(mark).filter((r) => r.path === '/login/oauth/access_token').length, 0, 'no token request');
  const cookie = leg.browser.header(leg.callbackUrl);
  const again = await get(leg.callbackUrl, cookie ? { cookie } : {});
  assert.equal(again.status, 400);
  assert.equal((await json(again)).error_code, 'bad_oauth_state');
});

test('a linked GitHub id never signs in as another admin, whatever address GitHub later gives it', async () => {
  const adaId = adminIdOf('ada.gh@example.com');
  const targetId = adminIdOf('target.gh@example.com');
  await githubSignIn(gh.ada);
  assert.equal(linkedTo(gh.ada), adaId);
  const saved = gh.ada.emails;
  // GitHub now says the target admin's address is ada's verified primary.
  gh.ada.emails = [primary('target.gh@example.com')];
  try {
    const { session } = await githubSignIn(gh.ada);
    assert.equal(decodeJwt(session.access_token).sub, adaId, 'still ada');
    assert.equal((await adminGet('/me', session.access_token)).body.id, adaId);
  } finally {
    gh.ada.emails = saved;
  }
  assert.equal(linkedTo(gh.ada), adaId, 'one link, to ada');
  // The target's own GitHub account is the target.
  const { session } = await githubSignIn(gh.target);
  assert.equal(decodeJwt(session.access_token).sub, targetId);
  assert.equal(app.sql(`SELECT count(*) FROM auth.admin_identities WHERE provider = 'github' AND provider_id = '${gh.ada.id}'`), '1');
});

test('an admin with an OpenID Connect identity and a GitHub identity: both sign in as that admin', async () => {
  const id = adminIdOf('both@example.com');
  const viaOidc = await finish(await oidcLeg(oidcAccounts.both));
  assert.equal(decodeJwt(viaOidc.session.access_token).sub, id);
  const viaGitHub = await githubSignIn(gh.both);
  assert.equal(decodeJwt(viaGitHub.session.access_token).sub, id);
  assert.equal(linkedTo(oidcAccounts.both, 'e2e'), id);
  assert.equal(linkedTo(gh.both), id);
  assert.equal(app.sql(`SELECT string_agg(provider, ',' ORDER BY provider) FROM auth.admin_identities WHERE user_id = '${id}' AND provider <> 'email'`), 'e2e,github');
  // Each again, in the other order.
  assert.equal(decodeJwt((await githubSignIn(gh.both)).session.access_token).sub, id);
  assert.equal(decodeJwt((await finish(await oidcLeg(oidcAccounts.both))).session.access_token).sub, id);
});
