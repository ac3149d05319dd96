// Passkeys (WebAuthn) end to end in a real browser: Debian's headless
// chromium, driven by playwright-core, with a CDP virtual authenticator
// (ctap2, internal transport, resident keys, user verification: a platform
// passkey) in each tab. A test page on http://localhost:<port> (a secure
// context; RP id `localhost`) fetches authd's options over HTTPS through
// CORS, runs navigator.credentials.create()/get() on them through
// PublicKeyCredential.parse*OptionsFromJSON, and posts credential.toJSON()
// back unchanged, in auth-js's envelope: the options come as
// {challenge_id, options, expires_at} and the credential goes back as
// {challenge_id, credential} (one registration and one sign-in post the bare
// credential, which authd still takes). Every browser response is cross-checked with
// @simplewebauthn/server before authd sees it, so a refusal by authd is
// authd's. The users sign up and in with auth-js; sessions are checked with
// jose and auth-js. The admin realm's passkeys are tested when this authd
// accepts `admin.passkey` in authd.yaml; the admin API is same-origin only
// (no CORS), so its calls go from Node while its ceremonies run in the page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  generateAuthenticationOptions, generateRegistrationOptions,
  verifyAuthenticationResponse, verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeJwt } from 'jose';
import { address, newPassword, recordSecret, startAppliance } from './appliance.mjs';
import { startBrowser } from './browser.mjs';

const build = process.env.ORBITNEST_BUILD ?? new URL('../../build', import.meta.url).pathname;
const passkeySettings = (origin) => ({
  rp_id: 'localhost', rp_name: 'E2E', origins: [origin],
  user_verification: 'required', resident_key: 'required', attestation: 'none',
});

// Whether this authd takes `admin.passkey` (checked with --check-config on
// a config of its own): the admin test runs only then.
function adminPasskeysProbe() {
  const dir = mkdtempSync('/tmp/orbitnest-e2e-probe-');
  try {
    writeFileSync(join(dir, 'authd.yaml'), `listen:
  port: 1
admin:
  listen:
    port: 2
  issuer: https://localhost:1/admin
  passkey:
    rp_id: localhost
    rp_name: E2E admin
    origins: ["http://localhost:3"]
    user_verification: required
    resident_key: required
    attestation: none
tls:
  cert_file: ${process.env.ORBITNEST_E2E_TLS_CERT}
  key_file: ${process.env.ORBITNEST_E2E_TLS_KEY}
keyd:
  socket_path: ${dir}/keyd.sock
database:
  conninfo: host=/tmp dbname=none
`);
    execFileSync(join(build, 'authd/authd'), ['--config', join(dir, 'authd.yaml'), '--check-config'], { stdio: 'pipe' });
    return { supported: true };
  } catch (e) {
    return { supported: false, why: `${e.stderr ?? e.message}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let app;
let browser;
let admin;
const adminEmail = 'passkey-ops@example.com';
const adminPassword = `${newPassword()}-long-enough`;

// The browser first (its page's origin goes into authd's settings); the
// appliance when the first test that needs it asks (so that the harness
// test says whether the browser works whatever authd does).
before(async () => {
  browser = await startBrowser({ trustCert: readFileSync(process.env.ORBITNEST_E2E_TLS_CERT, 'utf8') });
  admin = adminPasskeysProbe();
});
let starting;
function appliance() {
  starting ??= (async () => {
    const origin = browser.origin;
    const adminYaml = admin.supported ? [
      '  passkey:',
      ...Object.entries({ ...passkeySettings(origin), rp_name: 'E2E admin' })
        .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    ].join('\n') + '\n' : '';
    app = await startAppliance('passkeys', {
      settings: [`cors_allowed_origins=${JSON.stringify([origin])}`, `passkey=${JSON.stringify(passkeySettings(origin))}`],
      adminYaml,
    });
    if (admin.supported) {
      execFileSync(app.authdBin, ['--config', app.authdConfig, 'admin', 'create', adminEmail],
        { input: `${adminPassword}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    }
    return app;
  })();
  return starting;
}
after(async () => {
  await browser?.close();
  await app?.stop();
});

// The project API, called from the device's page (its Origin, CORS).
async function project(device, path, { method = 'POST', token, body } = {}) {
  const r = await device.call(`${app.authUrl}${path}`, {
    method, body, headers: { apikey: app.publishableKey, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
  });
  assert.ok(!r.error, `${method} ${path} failed in the page: ${JSON.stringify(r.error)}`);
  return r;
}

// The admin API from Node: it answers its own origin only and sends no
// CORS headers, so a page of another origin cannot read it (the admin UI is
// same-origin). The ceremonies still run in the page.
async function adminApi(_device, path, { method = 'POST', token, body } = {}) {
  const r = await fetch(`${app.adminUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = { unparsed: text }; }
  return { status: r.status, body: json };
}

const show = (r) => `${r.status} ${JSON.stringify(r.body)}`;
const claimsOf = (session) => decodeJwt(session.access_token);
const hasWebauthnAmr = (claims) => Array.isArray(claims.amr) && claims.amr.some((m) => m.method === 'webauthn');

// A confirmed user (signUp, the mailed code, verifyOtp) signed in with a
// password by auth-js: an aal1 session.
async function newUser(tag) {
  const auth = app.authClient();
  const email = address(tag);
  const password = newPassword();
  const up = await auth.signUp({ email, password });
  assert.equal(up.error, null, up.error?.message);
  const code = await app.mail.codeFor(email);
  recordSecret(code.length >= 6 ? code : `code-${code}-unused`);
  const confirmed = await auth.verifyOtp({ email, token: code, type: 'signup' });
  assert.equal(confirmed.error, null, confirmed.error?.message);
  const signedIn = await auth.signInWithPassword({ email, password });
  assert.equal(signedIn.error, null, signedIn.error?.message);
  assert.equal(claimsOf(signedIn.data.session).aal, 'aal1');
  return { email, password, id: signedIn.data.user.id, session: signedIn.data.session };
}

// A ceremony's options as auth-js reads them: {challenge_id, options,
// expires_at} (expires_at in seconds since the epoch), from both realms.
function ceremonyOf(r) {
  const b = r.body;
  assert.equal(typeof b?.challenge_id, 'string', `no challenge_id: ${show(r)}`);
  assert.ok(b.options && typeof b.options === 'object', `no options: ${show(r)}`);
  assert.equal(typeof b.expires_at, 'number', `expires_at: ${show(r)}`);
  const now = Date.now() / 1000;
  assert.ok(b.expires_at > now && b.expires_at <= now + 3600, `expires_at ${b.expires_at} vs now ${now}`);
  return { challengeId: b.challenge_id, options: b.options };
}
// What a verify call posts: auth-js's {challenge_id, credential}, or with
// `bare` the credential itself.
const posted = ({ challengeId, credential }, { bare = false, ...more } = {}) =>
  (bare ? { ...credential, ...more } : { challenge_id: challengeId, credential, ...more });

// A registration ceremony: options from `api`, create() in the device's
// page, the browser's response verified by SimpleWebAuthn, then posted.
async function register(device, api, token, { friendlyName, bare = false } = {}) {
  const r = await api(device, '/passkeys/registration/options', { token, body: {} });
  assert.equal(r.status, 200, show(r));
  const { challengeId, options } = ceremonyOf(r);
  const made = await device.create(options);
  assert.ok(made.credential, `create() failed: ${JSON.stringify(made.error)}`);
  const check = await verifyRegistrationResponse({
    response: made.credential, expectedChallenge: options.challenge, expectedOrigin: browser.origin,
    expectedRPID: 'localhost', requireUserVerification: true,
  });
  assert.equal(check.verified, true);
  const body = posted({ challengeId, credential: made.credential },
    { bare, ...(friendlyName ? { friendly_name: friendlyName } : {}) });
  const saved = await api(device, '/passkeys/registration/verify', { token, body });
  // What SimpleWebAuthn needs to check this credential's assertions.
  const key = { ...check.registrationInfo.credential };
  return { options, challengeId, credential: made.credential, check, saved, key };
}

// An authentication ceremony up to the browser's response (verified by
// SimpleWebAuthn against `key` when given), not yet posted: post it with
// posted(result).
async function assertion(device, api, { body = {}, key } = {}) {
  const r = await api(device, '/passkeys/authentication/options', { body });
  assert.equal(r.status, 200, show(r));
  const { challengeId, options } = ceremonyOf(r);
  const got = await device.get(options);
  assert.ok(got.credential, `get() failed: ${JSON.stringify(got.error)}`);
  if (key) {
    const check = await verifyAuthenticationResponse({
      response: got.credential, expectedChallenge: options.challenge, expectedOrigin: browser.origin,
      expectedRPID: 'localhost', credential: key, requireUserVerification: true,
    });
    assert.equal(check.verified, true);
    key.counter = check.authenticationInfo.newCounter;
  }
  return { options, challengeId, credential: got.credential };
}

const sameHex = (a, b) => String(a).replace(/-/g, '').toLowerCase() === String(b).replace(/-/g, '').toLowerCase();

test('the browser harness: a virtual authenticator completes both ceremonies SimpleWebAuthn verifies', async () => {
  const device = await browser.device();
  try {
    const regOptions = await generateRegistrationOptions({ rpName: 'harness', rpID: 'localhost', userName: 'harness',
      attestationType: 'none', authenticatorSelection: { residentKey: 'required', userVerification: 'required' } });
    const made = await device.create(regOptions);
    assert.ok(made.credential, JSON.stringify(made.error));
    const reg = await verifyRegistrationResponse({ response: made.credential, expectedChallenge: regOptions.challenge,
      expectedOrigin: browser.origin, expectedRPID: 'localhost', requireUserVerification: true });
    assert.equal(reg.verified, true);
    const authOptions = await generateAuthenticationOptions({ rpID: 'localhost', userVerification: 'required' });
    const got = await device.get(authOptions);
    assert.ok(got.credential, JSON.stringify(got.error));
    const auth = await verifyAuthenticationResponse({ response: got.credential, expectedChallenge: authOptions.challenge,
      expectedOrigin: browser.origin, expectedRPID: 'localhost', credential: reg.registrationInfo.credential,
      requireUserVerification: true });
    assert.equal(auth.verified, true);
  } finally {
    await device.close();
  }
});

// One user and their first passkey (a synced one: backup eligible and
// backed up), shared by the tests that follow in order.
let alice;
let aliceDevice;
let alicePasskey;

test('register a passkey: the options, the browser\'s credential, the stored record, the list', async () => {
  await appliance();
  alice = await newUser('passkey');
  aliceDevice = await browser.device({ defaultBackupEligibility: true, defaultBackupState: true });
  const reg = await register(aliceDevice, project, alice.session.access_token, { friendlyName: 'Phone' });
  const o = reg.options;
  assert.equal(o.rp.id, 'localhost');
  assert.equal(o.rp.name, 'E2E');
  assert.equal(o.user.name, alice.email);
  assert.match(o.user.id, /^[A-Za-z0-9_-]+$/);
  assert.match(o.challenge, /^[A-Za-z0-9_-]{22,}$/, 'a base64url challenge of at least 16 bytes');
  assert.ok(o.pubKeyCredParams.some((p) => p.type === 'public-key' && p.alg === -7), JSON.stringify(o.pubKeyCredParams));
  assert.equal(o.attestation, 'none');
  assert.deepEqual(o.excludeCredentials ?? [], []);
  assert.equal(o.authenticatorSelection.residentKey, 'required');
  assert.equal(o.authenticatorSelection.userVerification, 'required');
  assert.equal(o.extensions?.credProps, true);
  assert.deepEqual(reg.credential.clientExtensionResults.credProps, { rk: true });

  assert.equal(reg.saved.status, 200, show(reg.saved));
  const p = reg.saved.body;
  assert.match(p.id, /^[0-9a-f-]{36}$/);
  assert.equal(p.credential_id, reg.credential.id);
  assert.equal(p.friendly_name, 'Phone');
  assert.equal(p.backup_eligible, true);
  assert.equal(p.backed_up, true);
  assert.ok(sameHex(p.aaguid, reg.check.registrationInfo.aaguid), `aaguid ${p.aaguid} vs ${reg.check.registrationInfo.aaguid}`);
  assert.deepEqual(p.transports, ['internal']);
  assert.equal(p.attestation_format, 'none');
  assert.equal(p.attestation_verified, false, 'attestation "none" proves nothing');
  assert.ok(!Number.isNaN(Date.parse(p.created_at)));

  const list = await project(aliceDevice, '/passkeys', { method: 'GET', token: alice.session.access_token });
  assert.equal(list.status, 200, show(list));
  assert.equal(list.body.length, 1);
  assert.equal(list.body[0].id, p.id);
  assert.equal(list.body[0].credential_id, reg.credential.id);
  assert.equal(list.body[0].backup_eligible, true);
  assert.equal(list.body[0].backed_up, true);
  alicePasskey = { ...reg, record: p };
});

test('sign in with the passkey: discoverable and by email, aal2 with amr webauthn, usable by auth-js', async () => {
  assert.ok(alicePasskey, 'needs the registration test');
  // Discoverable: no allowCredentials, the authenticator picks the credential.
  const first = await assertion(aliceDevice, project, { key: alicePasskey.key });
  assert.equal(first.options.rpId, 'localhost');
  assert.deepEqual(first.options.allowCredentials ?? [], []);
  assert.equal(first.options.userVerification, 'required');
  assert.equal(first.credential.id, alicePasskey.credential.id);
  assert.equal(first.credential.response.userHandle, alicePasskey.options.user.id);
  const session = await project(aliceDevice, '/passkeys/authentication/verify', { body: posted(first) });
  assert.equal(session.status, 200, show(session));
  assert.equal(session.body.token_type, 'bearer');
  assert.ok(session.body.refresh_token);
  assert.equal(session.body.user.id, alice.id);
  const claims = claimsOf(session.body);
  assert.equal(claims.sub, alice.id);
  assert.equal(claims.aal, 'aal2');
  assert.ok(hasWebauthnAmr(claims), JSON.stringify(claims.amr));

  // auth-js takes the session as its own.
  const auth = app.authClient();
  const set = await auth.setSession({ access_token: session.body.access_token, refresh_token: session.body.refresh_token });
  assert.equal(set.error, null, set.error?.message);
  const user = await auth.getUser();
  assert.equal(user.error, null, user.error?.message);
  assert.equal(user.data.user.email, alice.email);

  // By email: the ceremony is bound to the user on the server; the options
  // name no credential (an address with passkeys looks like any other).
  // Posted bare (no envelope): authd finds the challenge in the client data.
  const second = await assertion(aliceDevice, project, { body: { email: alice.email }, key: alicePasskey.key });
  assert.deepEqual(second.options.allowCredentials ?? [], [], JSON.stringify(second.options.allowCredentials));
  const byEmail = await project(aliceDevice, '/passkeys/authentication/verify', { body: posted(second, { bare: true }) });
  assert.equal(byEmail.status, 200, show(byEmail));
  assert.equal(claimsOf(byEmail.body).aal, 'aal2');
  assert.equal(byEmail.body.user.id, alice.id);

  // With the Bearer of an aal1 session of the same user: that session is raised.
  const low = alice.session.access_token;
  const third = await assertion(aliceDevice, project, { key: alicePasskey.key });
  const raised = await project(aliceDevice, '/passkeys/authentication/verify', { token: low, body: posted(third) });
  assert.equal(raised.status, 200, show(raised));
  const raisedClaims = claimsOf(raised.body);
  assert.equal(raisedClaims.aal, 'aal2');
  assert.ok(hasWebauthnAmr(raisedClaims), JSON.stringify(raisedClaims.amr));
  assert.equal(raisedClaims.session_id, decodeJwt(low).session_id, 'the same session, raised');

  const list = await project(aliceDevice, '/passkeys', { method: 'GET', token: session.body.access_token });
  assert.equal(list.status, 200, show(list));
  assert.ok(list.body[0].last_used_at && !Number.isNaN(Date.parse(list.body[0].last_used_at)), show(list));
  alice.aal2 = session.body;
});

test('an assertion is good once, an unregistered authenticator signs in to nothing, excludeCredentials stops a second registration', async () => {
  assert.ok(alice?.aal2, 'needs the sign-in test');
  // Replay: the challenge is single-use.
  const once = await assertion(aliceDevice, project, { key: alicePasskey.key });
  const used = await project(aliceDevice, '/passkeys/authentication/verify', { body: posted(once) });
  assert.equal(used.status, 200, show(used));
  const replay = await project(aliceDevice, '/passkeys/authentication/verify', { body: posted(once) });
  assert.ok(replay.status === 400 || replay.status === 401, show(replay));
  assert.equal(replay.body.error_code, 'webauthn_challenge_not_found', show(replay));
  const bareReplay = await project(aliceDevice, '/passkeys/authentication/verify', { body: posted(once, { bare: true }) });
  assert.equal(bareReplay.body.error_code, 'webauthn_challenge_not_found', show(bareReplay));

  // The envelope's challenge_id must be the challenge the browser signed:
  // an unspent challenge named beside another ceremony's response is refused.
  const spare = await project(aliceDevice, '/passkeys/authentication/options', { body: {} });
  assert.equal(spare.status, 200, show(spare));
  const signed = await assertion(aliceDevice, project, { key: alicePasskey.key });
  const mismatched = await project(aliceDevice, '/passkeys/authentication/verify',
    { body: { challenge_id: spare.body.challenge_id, credential: signed.credential } });
  assert.ok(mismatched.status === 400 || mismatched.status === 401, show(mismatched));
  assert.equal(mismatched.body.access_token, undefined, show(mismatched));

  // Another authenticator with a credential for alice that authd never saw.
  const other = await browser.device();
  try {
    const r = await project(other, '/passkeys/registration/options', { token: alice.aal2.access_token, body: {} });
    assert.equal(r.status, 200, show(r));
    const { challengeId, options } = ceremonyOf(r);
    assert.ok(options.excludeCredentials.some((c) => c.id === alicePasskey.credential.id),
      JSON.stringify(options.excludeCredentials));
    const made = await other.create(options);
    assert.ok(made.credential, JSON.stringify(made.error));
    const stranger = await assertion(other, project);
    assert.equal(stranger.credential.id, made.credential.id);
    const refused = await project(other, '/passkeys/authentication/verify', { body: posted(stranger) });
    assert.ok(refused.status === 400 || refused.status === 401, show(refused));
    assert.equal(refused.body.error_code, 'webauthn_credential_not_found', show(refused));
    assert.equal(refused.body.access_token, undefined);

    // Registered (the same registration, posted now, bare: authd finds the
    // challenge in the client data), it signs in.
    const saved = await project(other, '/passkeys/registration/verify',
      { token: alice.aal2.access_token, body: posted({ challengeId, credential: made.credential }, { bare: true }) });
    assert.equal(saved.status, 200, show(saved));
    assert.equal(saved.body.backup_eligible, false);
    assert.equal(saved.body.backed_up, false);
    const now = await assertion(other, project);
    const in2 = await project(other, '/passkeys/authentication/verify', { body: posted(now) });
    assert.equal(in2.status, 200, show(in2));
    assert.equal(in2.body.user.id, alice.id);
    const list = await project(other, '/passkeys', { method: 'GET', token: alice.aal2.access_token });
    assert.deepEqual(list.body.map((p) => p.credential_id).sort(), [alicePasskey.credential.id, made.credential.id].sort());
    const flags = Object.fromEntries(list.body.map((p) => [p.credential_id, [p.backup_eligible, p.backed_up]]));
    assert.deepEqual(flags[alicePasskey.credential.id], [true, true]);
    assert.deepEqual(flags[made.credential.id], [false, false]);
  } finally {
    await other.close();
  }

  // The first authenticator again: its credential is excluded, the browser refuses.
  const again = await project(aliceDevice, '/passkeys/registration/options', { token: alice.aal2.access_token, body: {} });
  assert.equal(again.status, 200, show(again));
  const refusedByBrowser = await aliceDevice.create(ceremonyOf(again).options);
  assert.equal(refusedByBrowser.error?.name, 'InvalidStateError', JSON.stringify(refusedByBrowser));
  assert.equal((await aliceDevice.credentials()).length, 1);
});

test('rename and revoke a passkey; the revoked passkey signs in to nothing', async () => {
  await appliance();
  const bob = await newUser('revoke');
  const device = await browser.device();
  try {
    const reg = await register(device, project, bob.session.access_token);
    assert.equal(reg.saved.status, 200, show(reg.saved));
    assert.ok(typeof reg.saved.body.friendly_name === 'string' && reg.saved.body.friendly_name.length > 0, show(reg.saved));
    const id = reg.saved.body.id;
    const signIn = await assertion(device, project, { key: reg.key });
    const aal2 = await project(device, '/passkeys/authentication/verify', { body: posted(signIn) });
    assert.equal(aal2.status, 200, show(aal2));
    const token = aal2.body.access_token;

    const renamed = await project(device, `/passkeys/${id}`, { method: 'PATCH', token, body: { friendly_name: 'Work laptop' } });
    assert.equal(renamed.status, 200, show(renamed));
    assert.equal(renamed.body.id, id);
    assert.equal(renamed.body.friendly_name, 'Work laptop');
    const listed = await project(device, '/passkeys', { method: 'GET', token });
    assert.equal(listed.body[0].friendly_name, 'Work laptop');

    // Someone else's passkey is not found to them (alice renames bob's).
    assert.ok(alice?.aal2, 'needs the sign-in test');
    const foreign = await project(device, `/passkeys/${id}`, { method: 'PATCH', token: alice.aal2.access_token, body: { friendly_name: 'mine now' } });
    assert.equal(foreign.status, 404, show(foreign));
    const foreignDelete = await project(device, `/passkeys/${id}`, { method: 'DELETE', token: alice.aal2.access_token });
    assert.equal(foreignDelete.status, 404, show(foreignDelete));
    // An aal1 session cannot revoke.
    const low = await project(device, `/passkeys/${id}`, { method: 'DELETE', token: bob.session.access_token });
    assert.equal(low.status, 403, show(low));
    assert.equal(low.body.error_code, 'insufficient_aal', show(low));
    assert.equal((await project(device, '/passkeys', { method: 'GET', token })).body.length, 1);

    const revoked = await project(device, `/passkeys/${id}`, { method: 'DELETE', token });
    assert.equal(revoked.status, 200, show(revoked));
    assert.equal(revoked.body.id, id);
    const empty = await project(device, '/passkeys', { method: 'GET', token: bob.session.access_token });
    assert.equal(empty.status, 200, show(empty));
    assert.deepEqual(empty.body, []);

    // The authenticator still holds the credential; authd no longer takes it.
    assert.equal((await device.credentials()).length, 1);
    const stale = await assertion(device, project, { key: reg.key });
    const refused = await project(device, '/passkeys/authentication/verify', { body: posted(stale) });
    assert.ok(refused.status === 400 || refused.status === 401, show(refused));
    assert.equal(refused.body.error_code, 'webauthn_credential_not_found', show(refused));
    const byEmail = await project(device, '/passkeys/authentication/options', { body: { email: bob.email } });
    assert.equal(byEmail.status, 200, show(byEmail));
    assert.ok(!(ceremonyOf(byEmail).options.allowCredentials ?? []).some((c) => c.id === reg.credential.id), show(byEmail));
  } finally {
    await device.close();
  }
});

test('a forged signature, a response without user verification or presence: refused, and each spends its challenge', async () => {
  await appliance();
  const dave = await newUser('forged');
  const device = await browser.device();
  try {
    const reg = await register(device, project, dave.session.access_token);
    assert.equal(reg.saved.status, 200, show(reg.saved));
    for (const [bits, code] of [[{ isBogusSignature: true }, 'webauthn_verification_failed'],
      [{ isBadUV: true }, 'webauthn_user_not_verified'], [{ isBadUP: true }, 'webauthn_user_not_present']]) {
      await device.override(bits);
      const bad = await assertion(device, project);
      // SimpleWebAuthn refuses these browser-made bytes too (it throws, or
      // answers verified: false for a signature that does not verify).
      const independent = await verifyAuthenticationResponse({ response: bad.credential,
        expectedChallenge: bad.options.challenge, expectedOrigin: browser.origin, expectedRPID: 'localhost',
        credential: reg.key, requireUserVerification: true }).then((r) => r.verified, (e) => e.message);
      assert.notEqual(independent, true, `SimpleWebAuthn took ${JSON.stringify(bits)}`);
      const refused = await project(device, '/passkeys/authentication/verify', { body: posted(bad) });
      assert.equal(refused.status, 400, `${JSON.stringify(bits)}: ${show(refused)}`);
      assert.equal(refused.body.error_code, code, `${JSON.stringify(bits)}: ${show(refused)}`);
      assert.equal(refused.body.access_token, undefined);
      const again = await project(device, '/passkeys/authentication/verify', { body: posted(bad) });
      assert.equal(again.body.error_code, 'webauthn_challenge_not_found', show(again));
    }
    await device.override({});
    const good = await assertion(device, project, { key: reg.key });
    const ok = await project(device, '/passkeys/authentication/verify', { body: posted(good) });
    assert.equal(ok.status, 200, show(ok));
    assert.equal(ok.body.user.id, dave.id);
  } finally {
    await device.close();
  }
});

test('admin realm: an admin registers a passkey and signs in with it; project and admin passkeys do not cross', async (t) => {
  if (!admin.supported) {
    t.skip(`this authd has no admin.passkey setting (${admin.why})`);
    return;
  }
  await appliance();
  const adminDevice = await browser.device();
  const projectDevice = await browser.device();
  try {
    const password = await adminApi(adminDevice, '/token?grant_type=password', { body: { email: adminEmail, password: adminPassword } });
    assert.equal(password.status, 200, show(password));
    const reg = await register(adminDevice, adminApi, password.body.access_token, { friendlyName: 'Admin key' });
    assert.equal(reg.options.rp.id, 'localhost');
    assert.equal(reg.options.rp.name, 'E2E admin');
    assert.equal(reg.saved.status, 200, show(reg.saved));
    assert.equal(reg.saved.body.credential_id, reg.credential.id);

    const signIn = await assertion(adminDevice, adminApi, { key: reg.key });
    const session = await adminApi(adminDevice, '/passkeys/authentication/verify', { body: posted(signIn) });
    assert.equal(session.status, 200, show(session));
    const claims = claimsOf(session.body);
    assert.equal(claims.iss, app.adminIssuer);
    assert.equal(claims.role, 'admin');
    assert.equal(claims.aal, 'aal2');
    assert.ok(hasWebauthnAmr(claims), JSON.stringify(claims.amr));
    const me = await adminApi(adminDevice, '/me', { method: 'GET', token: session.body.access_token });
    assert.equal(me.status, 200, show(me));
    assert.equal(me.body.email, adminEmail);

    // The admin passkey at the project API: refused.
    const adminAtProject = await assertion(adminDevice, project, { key: reg.key });
    const r1 = await project(adminDevice, '/passkeys/authentication/verify', { body: posted(adminAtProject) });
    assert.ok(r1.status === 400 || r1.status === 401, show(r1));
    assert.equal(r1.body.error_code, 'webauthn_credential_not_found', show(r1));
    assert.equal(r1.body.access_token, undefined);

    // A project passkey at the admin API: refused.
    const carol = await newUser('realm');
    const projectReg = await register(projectDevice, project, carol.session.access_token);
    assert.equal(projectReg.saved.status, 200, show(projectReg.saved));
    const projectAtAdmin = await assertion(projectDevice, adminApi, { key: projectReg.key });
    const r2 = await adminApi(projectDevice, '/passkeys/authentication/verify', { body: posted(projectAtAdmin) });
    assert.ok(r2.status === 400 || r2.status === 401, show(r2));
    assert.equal(r2.body.error_code, 'webauthn_credential_not_found', show(r2));
    assert.equal(r2.body.access_token, undefined);
    // ...and a project challenge does not serve the admin API: the project
    // passkey's assertion made for the project goes nowhere at the admin API.
    const projectChallenge = await assertion(projectDevice, project, { key: projectReg.key });
    const r3 = await adminApi(projectDevice, '/passkeys/authentication/verify', { body: posted(projectChallenge) });
    assert.ok(r3.status === 400 || r3.status === 401, show(r3));
    const ok = await project(projectDevice, '/passkeys/authentication/verify', { body: posted(projectChallenge) });
    assert.equal(ok.status, 200, show(ok));
    assert.equal(ok.body.user.id, carol.id);
  } finally {
    await adminDevice.close();
    await projectDevice.close();
  }
});
