// The local OpenID provider (oidc_provider.mjs) on its own, no appliance:
// Node's fetch as the client, every redirect followed by hand with a cookie
// jar, ID tokens verified with jose against the provider's JWKS (trusted
// through NODE_EXTRA_CA_CERTS, the e2e certificate).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { startOidcProvider } from './oidc_provider.mjs';
import { CookieJar, b64url, readTls } from './social_harness.mjs';

const REDIRECT = 'https://localhost:1/auth/v1/callback';
const clients = [
  { client_id: 'orbitnest-admin', client_secret: randomBytes(16).toString('hex'), redirect_uris: [REDIRECT] },
  { client_id: 'orbitnest-es256', client_secret: randomBytes(16).toString('hex'), redirect_uris: [REDIRECT],
    id_token_signed_response_alg: 'ES256', token_endpoint_auth_method: 'client_secret_post' },
];
const [client, esClient] = clients;
const accounts = [
  { sub: '1094738291', email: 'ada@example.com', email_verified: true, name: 'Ada Admin' },
  { sub: '2200113344', email: 'eve@example.com', email_verified: false, name: 'Eve Unverified' },
];

let op;
let discovery;
let jwks;

before(async () => {
  op = await startOidcProvider({
    ...readTls(),
    clients,
    accounts,
  });
  discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
  jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
});
after(async () => {
  await op?.stop();
});

// An authorization request as a browser makes it: GET the authorization
// endpoint, follow the provider's redirects (carrying its cookies) until one
// leaves for the client's redirect_uri, whose query is returned.
async function authorize(params, jar = new CookieJar()) {
  let url = `${discovery.authorization_endpoint}?${new URLSearchParams(params)}`;
  for (let hop = 0; hop < 10; hop++) {
    const cookie = jar.header(url);
    const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    jar.store(res);
    const body = await res.text();
    assert.ok([302, 303].includes(res.status), `${url}: HTTP ${res.status}, not a redirect: ${body}`);
    const next = new URL(res.headers.get('location'), url);
    if (next.href.startsWith(`${REDIRECT}?`)) return Object.fromEntries(next.searchParams);
    assert.equal(next.origin, op.issuer, `a redirect to ${next.href}`);
    url = next.href;
  }
  throw new Error('more than 10 redirects');
}

// A fresh authorization request of `c`: state, nonce, PKCE verifier.
function request(c = client, extra = {}) {
  const verifier = b64url(randomBytes(32));
  const params = {
    response_type: 'code',
    client_id: c.client_id,
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    state: b64url(randomBytes(16)),
    nonce: b64url(randomBytes(16)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    ...extra,
  };
  return { params, verifier };
}

// The code exchanged at the token endpoint: client_secret_basic, or
// client_secret_post with `post: true`.
async function exchange(code, verifier, { c = client, post = false } = {}) {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (post) {
    form.set('client_id', c.client_id);
    form.set('client_secret', c.client_secret);
  } else {
    const enc = encodeURIComponent;
    headers.authorization = `Basic ${Buffer.from(`${enc(c.client_id)}:${enc(c.client_secret)}`).toString('base64')}`;
  }
  const res = await fetch(discovery.token_endpoint, { method: 'POST', headers, body: form });
  return { status: res.status, body: await res.json() };
}

// Sign in as `sub` and return the token response and the request made.
async function signIn(sub, { c = client, post = false } = {}) {
  const { params, verifier } = request(c);
  op.setNextLogin(sub);
  const answer = await authorize(params);
  assert.equal(answer.state, params.state);
  assert.ok(answer.code, JSON.stringify(answer));
  const token = await exchange(answer.code, verifier, { c, post });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return { token: token.body, params };
}

test('discovery: the issuer, its endpoints, code flow with S256 PKCE, RS256 and ES256, both client_secret methods', async () => {
  assert.equal(op.issuer, `https://127.0.0.1:${op.port}`);
  assert.equal(discovery.issuer, op.issuer);
  for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri']) {
    assert.ok(discovery[endpoint].startsWith(`${op.issuer}/`), endpoint);
  }
  assert.deepEqual(discovery.response_types_supported, ['code']);
  assert.deepEqual(discovery.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(discovery.grant_types_supported, ['authorization_code']);
  assert.deepEqual(discovery.id_token_signing_alg_values_supported, ['RS256', 'ES256']);
  assert.deepEqual(discovery.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
  for (const scope of ['openid', 'email', 'profile']) assert.ok(discovery.scopes_supported.includes(scope), scope);
  for (const claim of ['sub', 'email', 'email_verified', 'name']) assert.ok(discovery.claims_supported.includes(claim), claim);
  assert.equal(discovery.authorization_response_iss_parameter_supported, true);

  const keys = await (await fetch(discovery.jwks_uri)).json();
  assert.deepEqual(keys.keys.map((k) => [k.kty, k.alg, k.use]), [['RSA', 'RS256', 'sig'], ['EC', 'ES256', 'sig']]);
  for (const k of keys.keys) {
    assert.ok(k.kid);
    assert.equal(k.d, undefined, 'no private part in the JWKS');
  }
});

test('code flow with PKCE: authorize, interaction, redirect_uri with code, state and iss; client_secret_basic; a verified RS256 ID token with email, email_verified, name and the nonce', async () => {
  const { params, verifier } = request();
  op.setNextLogin('1094738291');
  const before = op.requests.length;
  const answer = await authorize(params);
  assert.equal(answer.state, params.state);
  assert.equal(answer.iss, op.issuer);
  assert.match(answer.code, /^[\w-]{20,}$/);
  const hops = op.requests.slice(before).map((r) => `${r.method} ${r.path.replace(/\/[\w-]{10,}$/, '/:uid')}`);
  assert.deepEqual(hops, ['GET /auth', 'GET /interaction/:uid', 'GET /auth/:uid']);
  assert.equal(op.requests[before].query.code_challenge, params.code_challenge);

  const token = await exchange(answer.code, verifier);
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.equal(token.body.token_type, 'Bearer');
  assert.ok(token.body.access_token);
  assert.equal(decodeProtectedHeader(token.body.id_token).alg, 'RS256');
  const { payload } = await jwtVerify(token.body.id_token, jwks, {
    issuer: op.issuer, audience: client.client_id, algorithms: ['RS256'],
  });
  assert.equal(payload.sub, '1094738291');
  assert.equal(payload.email, 'ada@example.com');
  assert.equal(payload.email_verified, true);
  assert.equal(payload.name, 'Ada Admin');
  assert.equal(payload.nonce, params.nonce);
  assert.ok(payload.exp > payload.iat);

  const me = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${token.body.access_token}` } });
  assert.equal(me.status, 200);
  assert.deepEqual(await me.json(), { sub: '1094738291', email: 'ada@example.com', email_verified: true, name: 'Ada Admin' });

  // The same code a second time: refused.
  const again = await exchange(answer.code, verifier);
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
  // ... and what the first exchange issued is revoked with it.
  const revoked = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${token.body.access_token}` } });
  assert.equal(revoked.status, 401);
});

test('client_secret_post, and a client registered for ES256 gets an ES256 ID token; email_verified false is said', async () => {
  const { token, params } = await signIn('2200113344', { c: esClient, post: true });
  assert.equal(decodeProtectedHeader(token.id_token).alg, 'ES256');
  const { payload } = await jwtVerify(token.id_token, jwks, { issuer: op.issuer, audience: esClient.client_id, algorithms: ['ES256'] });
  assert.equal(payload.email, 'eve@example.com');
  assert.equal(payload.email_verified, false);
  assert.equal(payload.nonce, params.nonce);
  // The client registered for client_secret_post also authenticates by basic.
  const second = request(esClient);
  op.setNextLogin('2200113344');
  const { code } = await authorize(second.params);
  assert.equal((await exchange(code, second.verifier, { c: esClient })).status, 200);
});

test('no login set: the interaction ends in access_denied at the redirect_uri', async () => {
  const { params } = request();
  const answer = await authorize(params);
  assert.equal(answer.error, 'access_denied');
  assert.equal(answer.state, params.state);
  assert.equal(answer.code, undefined);
});

test('setNextLogin is for one authorization request: the provider\'s session cookie does not sign in the next one', async () => {
  const jar = new CookieJar();
  op.setNextLogin('1094738291');
  const firstRequest = request();
  const first = await authorize(firstRequest.params, jar);
  const firstToken = await exchange(first.code, firstRequest.verifier);
  assert.ok(jar.header(`${op.issuer}/auth`).includes('_session='), 'the provider keeps a session cookie');
  const second = await authorize(request().params, jar);
  assert.equal(second.error, 'access_denied');
  // Another account in the same browser: whoever setNextLogin names.
  op.setNextLogin('2200113344');
  const { params, verifier } = request();
  const third = await authorize(params, jar);
  const token = await exchange(third.code, verifier);
  assert.equal(decodeJwt(token.body.id_token).sub, '2200113344');
  // What the first sign-in issued outlives the session that replaced it.
  const me = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${firstToken.body.access_token}` } });
  assert.equal((await me.json()).sub, '1094738291');
  assert.throws(() => op.setNextLogin('nobody'), /no account/);
});

test('PKCE: a request without code_challenge is refused, a wrong code_verifier is invalid_grant', async () => {
  op.setNextLogin('1094738291');
  const { params } = request();
  delete params.code_challenge;
  delete params.code_challenge_method;
  const refused = await authorize(params);
  assert.equal(refused.error, 'invalid_request');
  assert.match(refused.error_description, /PKCE/);

  op.setNextLogin('1094738291');
  const good = request();
  const { code } = await authorize(good.params);
  const wrong = await exchange(code, b64url(randomBytes(32)));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error, 'invalid_grant');
  op.setNextLogin(null);
});

test('a wrong client secret is invalid_client', async () => {
  const { params, verifier } = request();
  op.setNextLogin('1094738291');
  const { code } = await authorize(params);
  const res = await exchange(code, verifier, { c: { ...client, client_secret: 'not-the-secret' } });
  assert.equal(res.status, 401);
  assert.equal(res.body.error, 'invalid_client');
});

test('setIdTokenOverride: claims altered under the provider\'s own signature, once', async () => {
  op.setIdTokenOverride((claims) => {
    claims.aud = 'another-client';
    claims.nonce = 'another-nonce';
    delete claims.email_verified;
  });
  const { token } = await signIn('1094738291');
  // Signed by the provider: only the claims are wrong.
  const { payload } = await jwtVerify(token.id_token, jwks, { issuer: op.issuer, algorithms: ['RS256'] });
  assert.equal(payload.aud, 'another-client');
  assert.equal(payload.nonce, 'another-nonce');
  assert.equal('email_verified' in payload, false);
  await assert.rejects(jwtVerify(token.id_token, jwks, { issuer: op.issuer, audience: client.client_id }), /aud/);

  // Once: the next ID token is the provider's own again.
  const next = await signIn('1094738291');
  const verified = await jwtVerify(next.token.id_token, jwks, { issuer: op.issuer, audience: client.client_id });
  assert.equal(verified.payload.nonce, next.params.nonce);
  assert.equal(verified.payload.email_verified, true);

  // Claims returned instead: another provider's issuer, expired.
  op.setIdTokenOverride((claims) => ({ ...claims, iss: 'https://accounts.google.com', exp: claims.iat - 60 }));
  const other = decodeJwt((await signIn('1094738291')).token.id_token);
  assert.equal(other.iss, 'https://accounts.google.com');
  assert.ok(other.exp < other.iat);
});

test('setIdTokenOverride: a foreign key under the provider\'s kid, alg none, HS256 with the client secret, no id_token at all', async () => {
  op.setIdTokenOverride(() => {}, { signature: 'foreign' });
  const forged = (await signIn('1094738291')).token.id_token;
  assert.equal(decodeProtectedHeader(forged).kid, (await (await fetch(discovery.jwks_uri)).json()).keys[0].kid);
  await assert.rejects(jwtVerify(forged, jwks, { issuer: op.issuer, audience: client.client_id }), { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' });

  op.setIdTokenOverride((claims, header) => { header.kid = 'unknown-kid'; }, { signature: 'none' });
  const unsigned = (await signIn('1094738291')).token.id_token;
  assert.equal(decodeProtectedHeader(unsigned).alg, 'none');
  assert.ok(unsigned.endsWith('.'));
  assert.equal(decodeJwt(unsigned).email, 'ada@example.com');
  await assert.rejects(jwtVerify(unsigned, jwks));

  op.setIdTokenOverride(() => {}, { signature: 'client_secret' });
  const hs = (await signIn('1094738291')).token.id_token;
  assert.deepEqual(decodeProtectedHeader(hs), { alg: 'HS256', typ: 'JWT' });
  await jwtVerify(hs, new TextEncoder().encode(client.client_secret), { issuer: op.issuer, audience: client.client_id });
  await assert.rejects(jwtVerify(hs, jwks, { issuer: op.issuer, audience: client.client_id }));

  op.setIdTokenOverride(() => null);
  const { token } = await signIn('1094738291');
  assert.equal(token.id_token, undefined);
  assert.ok(token.access_token);

  op.setIdTokenOverride(() => null);
  op.setIdTokenOverride(null);   // cancelled
  assert.ok((await signIn('1094738291')).token.id_token);
});
