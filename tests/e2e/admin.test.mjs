// The admin user system end to end over HTTPS: the first admin made with
// `authd admin create` (password on stdin), sign-in, refresh rotation,
// replay revoking every admin session, sign-out — and token isolation
// checked with the real client libraries: jose verifies an admin token
// only against the admin JWKS and a project token only against the
// project's; auth-js's getUser() refuses an admin token; the admin API
// refuses a project user's token.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { address, newPassword, startAppliance } from './appliance.mjs';

let app;
const adminEmail = 'ops@example.com';
const adminPassword = newPassword() + '-long-enough';

before(async () => {
  app = await startAppliance('admin', { settings: ['debug_mode=true'] });
  execFileSync(app.authdBin, ['--config', app.authdConfig, 'admin', 'create', adminEmail],
    { input: `${adminPassword}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
});
after(async () => app?.stop());

async function admin(method, path, { body, token, headers = {} } = {}) {
  const r = await fetch(`${app.adminUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

const signIn = () => admin('POST', '/token?grant_type=password', { body: { email: adminEmail, password: adminPassword } });

async function jwks(url) {
  return createLocalJWKSet(await (await fetch(url)).json());
}

test('an admin signs in, refreshes, and a replayed refresh token ends every admin session', async () => {
  const first = await signIn();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const adminKeys = await jwks(`${app.adminUrl}/.well-known/jwks.json`);
  const { payload } = await jwtVerify(first.body.access_token, adminKeys,
    { issuer: app.adminIssuer, audience: 'orbitnest-admin' });
  assert.equal(payload.role, 'admin');
  assert.equal(payload.email, adminEmail);

  const me = await admin('GET', '/me', { token: first.body.access_token });
  assert.equal(me.status, 200);
  assert.equal(me.body.email, adminEmail);

  const other = await signIn();
  const rotated = await admin('POST', '/token?grant_type=refresh_token', { body: { refresh_token: first.body.refresh_token } });
  assert.equal(rotated.status, 200);
  assert.notEqual(rotated.body.refresh_token, first.body.refresh_token);
  // The child is used, so the parent presented again is a replay.
  assert.equal((await admin('POST', '/token?grant_type=refresh_token', { body: { refresh_token: rotated.body.refresh_token } })).status, 200);
  const replay = await admin('POST', '/token?grant_type=refresh_token', { body: { refresh_token: first.body.refresh_token } });
  assert.equal(replay.status, 400);
  assert.equal(replay.body.error_code, 'refresh_token_already_used');
  assert.equal((await admin('GET', '/me', { token: other.body.access_token })).status, 403);
  assert.equal(app.sql('SELECT count(*) FROM auth.admin_sessions'), '0');

  const third = await signIn();
  assert.equal((await admin('POST', '/logout', { token: third.body.access_token })).status, 204);
  const gone = await admin('GET', '/me', { token: third.body.access_token });
  assert.equal(gone.status, 403);
  assert.equal(gone.body.error_code, 'session_not_found');
});

test('an admin token is no project token, and a project token no admin token', async () => {
  const adminSession = (await signIn()).body;
  const auth = app.authClient();
  const email = address('user');
  assert.equal((await auth.signInWithOtp({ email })).error, null);
  const { data, error } = await auth.verifyOtp({ email, token: '1234', type: 'email' });
  assert.equal(error, null);
  const userToken = data.session.access_token;

  // jose: each token verifies against its own realm's keys only.
  const projectKeys = await jwks(`${app.authUrl}/.well-known/jwks.json`);
  const adminKeys = await jwks(`${app.adminUrl}/.well-known/jwks.json`);
  await assert.rejects(jwtVerify(adminSession.access_token, projectKeys));
  await assert.rejects(jwtVerify(userToken, adminKeys));
  assert.equal(decodeJwt(userToken).ref, 'e2e');
  assert.equal(decodeJwt(adminSession.access_token).ref, undefined);

  // auth-js: the project API refuses the admin token, in GoTrue's shape.
  const refused = await auth.getUser(adminSession.access_token);
  assert.equal(refused.data.user, null);
  assert.equal(refused.error.status, 403);
  assert.equal(refused.error.code, 'bad_jwt');

  // The admin API refuses the project user's token on every signed-in route.
  for (const [method, path] of [['GET', '/me'], ['GET', '/sessions'], ['POST', '/logout'],
    ['DELETE', '/sessions/00000000-0000-4000-8000-000000000000']]) {
    const r = await admin(method, path, { token: userToken });
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.body.error_code, 'bad_jwt', `${method} ${path}`);
  }
  // Nobody was signed out by the attempts.
  assert.equal((await auth.getUser(userToken)).error, null);
  assert.equal((await admin('GET', '/me', { token: adminSession.access_token })).status, 200);
});

test('the admin API answers its own origin only', async () => {
  const r = await admin('POST', '/token?grant_type=password',
    { body: { email: adminEmail, password: adminPassword }, headers: { Origin: 'https://evil.example' } });
  assert.equal(r.status, 403);
  assert.equal(r.body.error_code, 'origin_not_allowed');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
});
