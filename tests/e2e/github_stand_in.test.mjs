// The GitHub stand-in (github_stand_in.mjs) on its own, no appliance: Node's
// fetch as the OAuth app (redirects not followed: the authorization endpoint
// answers with one redirect, read by hand), the certificate trusted through
// NODE_EXTRA_CA_CERTS (the e2e certificate).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startGitHubStandIn } from './github_stand_in.mjs';
import { b64url, pkce, readTls } from './social_harness.mjs';

const CALLBACK = 'https://app.example/auth/github/callback';
const app = { client_id: 'Iv1.0rb1tn35t0000001', client_secret: randomBytes(20).toString('hex'), callback_url: CALLBACK };
const other = { client_id: 'Iv1.0th3r000000000002', client_secret: randomBytes(20).toString('hex'), callback_url: 'https://other.example/cb' };
const accounts = [
  {
    login: 'octo-ada', id: 5831001, name: 'Ada Octo', email: 'ada@example.com',
    emails: [
      { email: 'ada@example.com', primary: true, verified: true },
      { email: 'ada@work.example', primary: false, verified: true },
      { email: 'ada@old.example', primary: false, verified: false },
    ],
  },
  { login: 'quiet', id: 77, name: null, email: null, emails: [{ email: 'q@example.com', primary: true, verified: false }] },
];
const UA = { 'User-Agent': 'orbitnest-e2e' };

let gh;

before(async () => {
  gh = await startGitHubStandIn({
    ...readTls(),
    clients: [app, other],
    accounts,
  });
});
after(async () => {
  await gh?.stop();
});

// GET the authorization endpoint: the redirect's URL (or the page's status and text).
async function authorize(params) {
  const res = await fetch(`${gh.authorizeUrl}?${new URLSearchParams(params)}`, { redirect: 'manual' });
  const text = await res.text();
  if (res.status !== 302) return { status: res.status, text, type: res.headers.get('content-type') };
  const location = new URL(res.headers.get('location'));
  return { status: 302, location, params: Object.fromEntries(location.searchParams) };
}

// POST the token endpoint: {status, type, body} with body parsed per the answer's type.
async function token(fields, { json = true, headers = {} } = {}) {
  const res = await fetch(gh.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(json ? { Accept: 'application/json' } : {}), ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  const type = res.headers.get('content-type');
  const body = type.startsWith('application/json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text));
  return { status: res.status, type, body };
}

async function api(path, accessToken, { scheme = 'Bearer', headers = UA } = {}) {
  const res = await fetch(`${gh.apiBase}${path}`, {
    headers: { Accept: 'application/vnd.github+json', ...(accessToken ? { Authorization: `${scheme} ${accessToken}` } : {}), ...headers },
  });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, headers: res.headers, body };
}

// A sign-in as `login` up to the code.
async function codeFor(login, extra = {}) {
  const { verifier, challenge } = pkce();
  const state = b64url(randomBytes(16));
  gh.setNextLogin(login);
  const r = await authorize({
    client_id: app.client_id, redirect_uri: CALLBACK, scope: 'read:user user:email', state,
    code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  });
  assert.equal(r.status, 302, r.text);
  assert.equal(`${r.location.origin}${r.location.pathname}`, CALLBACK);
  assert.equal(r.params.state, state);
  assert.match(r.params.code, /^[0-9a-f]{20}$/);
  return { code: r.params.code, verifier };
}

test('the web flow: authorize -> code -> token (JSON) -> /user and /user/emails in GitHub\'s shapes', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const t = await token({ client_id: app.client_id, client_secret: app.client_secret, code, redirect_uri: CALLBACK, code_verifier: verifier });
  assert.equal(t.status, 200);
  assert.match(t.type, /^application\/json/);
  assert.deepEqual(Object.keys(t.body).sort(), ['access_token', 'scope', 'token_type']);
  assert.match(t.body.access_token, /^gho_[A-Za-z0-9]{36}$/);
  assert.equal(t.body.token_type, 'bearer');
  assert.equal(t.body.scope, 'read:user,user:email');

  const user = await api('/user', t.body.access_token);
  assert.equal(user.status, 200);
  assert.equal(user.body.login, 'octo-ada');
  assert.equal(user.body.id, 5831001);
  assert.equal(typeof user.body.id, 'number');
  assert.equal(Buffer.from(user.body.node_id, 'base64').toString(), '04:User5831001');
  assert.equal(user.body.name, 'Ada Octo');
  assert.equal(user.body.email, 'ada@example.com');
  assert.equal(user.body.type, 'User');
  assert.match(user.body.avatar_url, /^https:\/\/avatars\.githubusercontent\.com\/u\/5831001/);
  assert.equal(user.headers.get('x-oauth-scopes'), 'read:user, user:email');

  const emails = await api('/user/emails', t.body.access_token, { scheme: 'token' });
  assert.equal(emails.status, 200);
  assert.deepEqual(emails.body, [
    { email: 'ada@example.com', primary: true, verified: true, visibility: 'public' },
    { email: 'ada@work.example', primary: false, verified: true, visibility: null },
    { email: 'ada@old.example', primary: false, verified: false, visibility: null },
  ]);
  // Held by reference: a change shows in the next answer.
  accounts[0].emails.push({ email: 'ada@new.example', primary: false, verified: true });
  try {
    assert.equal((await api('/user/emails', t.body.access_token)).body.length, 4);
  } finally {
    accounts[0].emails.pop();
  }

  // An account with no public address, no name and an unverified primary one (private).
  const quiet = await codeFor('quiet');
  const q = await token({ client_id: app.client_id, client_secret: app.client_secret, code: quiet.code, code_verifier: quiet.verifier });
  const qUser = await api('/user', q.body.access_token);
  assert.equal(qUser.body.id, 77);
  assert.equal(qUser.body.email, null);
  assert.equal(qUser.body.name, null);
  assert.deepEqual((await api('/user/emails', q.body.access_token)).body,
    [{ email: 'q@example.com', primary: true, verified: false, visibility: 'private' }]);

  // The log: what the client sent.
  const exchange = gh.requests.findLast((r) => r.path === '/login/oauth/access_token');
  assert.equal(exchange.method, 'POST');
  assert.equal(exchange.headers.accept, 'application/json');
  assert.equal(exchange.form.code, quiet.code);
  assert.equal(gh.requests.findLast((r) => r.path === '/api/user/emails').headers['user-agent'], 'orbitnest-e2e');
});

test('the token answer is a form without Accept: application/json (GitHub\'s default), errors too', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const t = await token({ client_id: app.client_id, client_secret: app.client_secret, code, code_verifier: verifier }, { json: false });
  assert.equal(t.status, 200);
  assert.match(t.type, /^application\/x-www-form-urlencoded/);
  assert.match(t.body.access_token, /^gho_/);
  assert.equal(t.body.token_type, 'bearer');
  assert.equal(t.body.scope, 'read:user,user:email');
  assert.equal((await api('/user', t.body.access_token)).body.login, 'octo-ada');

  const again = await token({ client_id: app.client_id, client_secret: app.client_secret, code, code_verifier: verifier }, { json: false });
  assert.equal(again.status, 200);
  assert.match(again.type, /^application\/x-www-form-urlencoded/);
  assert.equal(again.body.error, 'bad_verification_code');
  assert.equal(again.body.error_description, 'The code passed is incorrect or expired.');
  assert.match(again.body.error_uri, /^https:\/\/docs\.github\.com\/.*#bad-verification-code$/);
});

test('client credentials by HTTP Basic are accepted', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const basic = Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
  const t = await token({ code, code_verifier: verifier, redirect_uri: CALLBACK }, { headers: { Authorization: `Basic ${basic}` } });
  assert.equal(t.status, 200);
  assert.match(t.body.access_token, /^gho_/, JSON.stringify(t.body));
});

test('nobody signs in: access_denied back to the redirect_uri with the state', async () => {
  gh.setNextLogin(null);
  const r = await authorize({ client_id: app.client_id, redirect_uri: CALLBACK, scope: 'read:user', state: 'st-1' });
  assert.equal(r.status, 302);
  assert.equal(`${r.location.origin}${r.location.pathname}`, CALLBACK);
  assert.deepEqual(Object.keys(r.params), ['error', 'error_description', 'error_uri', 'state']);
  assert.equal(r.params.error, 'access_denied');
  assert.equal(r.params.error_description, 'The user has denied your application access.');
  assert.match(r.params.error_uri, /#access-denied$/);
  assert.equal(r.params.state, 'st-1');
  assert.equal(r.params.code, undefined);
  // setNextLogin is one use: the next request after a sign-in is denied too.
  await codeFor('octo-ada');
  const next = await authorize({ client_id: app.client_id, state: 'st-2' });
  assert.equal(next.params.error, 'access_denied');
  assert.equal(`${next.location.origin}${next.location.pathname}`, CALLBACK, 'no redirect_uri: the app\'s callback URL');
  // An unknown login is a denial as well.
  gh.setNextLogin('nobody-here');
  assert.equal((await authorize({ client_id: app.client_id, state: 's' })).params.error, 'access_denied');
});

test('an unknown client_id or a redirect_uri the app did not register: a 400 page, no redirect', async () => {
  gh.setNextLogin('octo-ada');
  const unknown = await authorize({ client_id: 'Iv1.unknown', redirect_uri: CALLBACK, state: 's' });
  assert.equal(unknown.status, 400);
  assert.match(unknown.type, /^text\/plain/);
  for (const bad of ['https://evil.example/auth/github/callback', 'https://app.example/auth/github/callbackx',
    'https://app.example/auth/github', 'https://app.example:8443/auth/github/callback', 'http://app.example/auth/github/callback',
    'https://app.example.evil.test/auth/github/callback', 'not a url']) {
    gh.setNextLogin('octo-ada');
    const r = await authorize({ client_id: app.client_id, redirect_uri: bad, state: 's' });
    assert.equal(r.status, 400, bad);
    assert.match(r.text, /redirect_uri is not associated with this application/);
  }
  // Under the callback's path, and a subdomain: GitHub accepts both.
  for (const good of [`${CALLBACK}/deeper`, 'https://eu.app.example/auth/github/callback', `${CALLBACK}?from=x`]) {
    gh.setNextLogin('octo-ada');
    const r = await authorize({ client_id: app.client_id, redirect_uri: good, state: 's' });
    assert.equal(r.status, 302, `${good}: ${r.text}`);
    assert.ok(r.params.code);
  }
  gh.setNextLogin(null);
});

test('a code serves one exchange, for its own client, within 10 minutes', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const fields = { client_id: app.client_id, client_secret: app.client_secret, code, code_verifier: verifier };
  assert.match((await token(fields)).body.access_token, /^gho_/);
  const reuse = await token(fields);
  assert.equal(reuse.status, 200, 'GitHub answers its errors with HTTP 200');
  assert.deepEqual(Object.keys(reuse.body).sort(), ['error', 'error_description', 'error_uri']);
  assert.equal(reuse.body.error, 'bad_verification_code');
  assert.equal((await token({ ...fields, code: randomBytes(10).toString('hex') })).body.error, 'bad_verification_code');

  const mine = await codeFor('octo-ada');
  const stolen = await token({ client_id: other.client_id, client_secret: other.client_secret, code: mine.code, code_verifier: mine.verifier });
  assert.equal(stolen.body.error, 'bad_verification_code', 'another app cannot redeem it');

  const late = await codeFor('octo-ada');
  gh.expireCodes();
  assert.equal((await token({ ...fields, code: late.code, code_verifier: late.verifier })).body.error, 'bad_verification_code');
});

test('a wrong client secret or an unknown client: incorrect_client_credentials, the code left usable', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const wrong = await token({ client_id: app.client_id, client_secret: 'not-the-secret', code, code_verifier: verifier });
  assert.equal(wrong.status, 200);
  assert.equal(wrong.body.error, 'incorrect_client_credentials');
  assert.equal(wrong.body.error_description, 'The client_id and/or client_secret passed are incorrect.');
  assert.equal(wrong.body.access_token, undefined);
  assert.equal((await token({ client_id: app.client_id, code, code_verifier: verifier })).body.error, 'incorrect_client_credentials');
  assert.equal((await token({ client_id: 'Iv1.unknown', client_secret: app.client_secret, code, code_verifier: verifier })).body.error,
    'incorrect_client_credentials');
  const basic = Buffer.from(`${app.client_id}:wrong`).toString('base64');
  assert.equal((await token({ code, code_verifier: verifier }, { headers: { Authorization: `Basic ${basic}` } })).body.error,
    'incorrect_client_credentials');
  const right = await token({ client_id: app.client_id, client_secret: app.client_secret, code, code_verifier: verifier });
  assert.match(right.body.access_token, /^gho_/);
});

test('a redirect_uri other than the authorization request\'s: redirect_uri_mismatch', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const r = await token({ client_id: app.client_id, client_secret: app.client_secret, code, code_verifier: verifier, redirect_uri: `${CALLBACK}/other` });
  assert.equal(r.status, 200);
  assert.equal(r.body.error, 'redirect_uri_mismatch');
  assert.match(r.body.error_uri, /#redirect-uri-mismatch/);
});

test('PKCE: a verifier that does not match the S256 challenge, or none, is bad_verification_code (and spends the code)', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const fields = { client_id: app.client_id, client_secret: app.client_secret, code };
  assert.equal((await token({ ...fields, code_verifier: pkce().verifier })).body.error, 'bad_verification_code');
  assert.equal((await token({ ...fields, code_verifier: verifier })).body.error, 'bad_verification_code', 'spent');
  const second = await codeFor('octo-ada');
  assert.equal((await token({ ...fields, code: second.code })).body.error, 'bad_verification_code');
  // A plain challenge is refused at the authorization endpoint (S256 only).
  gh.setNextLogin('octo-ada');
  const plain = await authorize({ client_id: app.client_id, state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
  assert.equal(plain.params.error, 'invalid_request');
  assert.equal(plain.params.code, undefined);
  gh.setNextLogin(null);
  // No challenge at all: no verifier needed (PKCE is optional at GitHub).
  gh.setNextLogin('octo-ada');
  const bare = await authorize({ client_id: app.client_id, state: 's', scope: 'read:user' });
  const t = await token({ ...fields, code: bare.params.code });
  assert.equal(t.body.scope, 'read:user');
  // Without user:email, /user/emails is a 404 as at GitHub.
  assert.equal((await api('/user', t.body.access_token)).status, 200);
  const emails = await api('/user/emails', t.body.access_token);
  assert.equal(emails.status, 404);
  assert.equal(emails.body.message, 'Not Found');
});

test('the API: no User-Agent is a 403, a bad or missing token a 401 Bad credentials', async () => {
  const { code, verifier } = await codeFor('octo-ada');
  const { body } = await token({ client_id: app.client_id, client_secret: app.client_secret, code, code_verifier: verifier });
  // Node's fetch sends "User-Agent: node" unless told otherwise: an empty one is none (as at GitHub).
  const noUa = await api('/user', body.access_token, { headers: { 'User-Agent': '' } });
  assert.equal(noUa.status, 403);
  assert.match(noUa.body, /User-Agent header/);
  const bad = await api('/user', `gho_${'A'.repeat(36)}`);
  assert.equal(bad.status, 401);
  assert.equal(bad.body.message, 'Bad credentials');
  assert.match(bad.body.documentation_url, /^https:\/\/docs\.github\.com\//);
  assert.equal((await api('/user/emails', null)).status, 401);
  assert.equal((await api('/user', body.access_token, { scheme: 'Basic' })).status, 401);
  assert.equal((await api('/user', body.access_token)).status, 200);
});
