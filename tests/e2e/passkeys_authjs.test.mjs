// auth-js's own passkey and WebAuthn MFA methods, run in a real browser.
// The unmodified @supabase/auth-js (node_modules, its ESM build) is loaded
// into the headless chromium page of browser.mjs (served from /auth-js/);
// a GoTrueClient made there (`experimental: { passkey: true }`) drives real
// ceremonies on the tab's CDP virtual authenticator against authd over
// HTTPS, through CORS: registerPasskey, signInWithPasskey, passkey.list /
// update / delete, and mfa.webauthn.register / authenticate / challenge /
// verify with listFactors, getAuthenticatorAssuranceLevel and unenroll.
// Sessions are checked from their JWTs (jose). The project starts with
// mfa_sign_in=aal1_session (GoTrue's way, which auth-js's MFA methods
// expect); the last test switches it to `challenge`, where a password
// sign-in answers a challenge token with WebAuthn request options, answered
// with the page's own navigator.credentials.get() and POST /mfa/verify.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { address, newPassword, recordSecret, startAppliance } from './appliance.mjs';
import { startBrowser } from './browser.mjs';

let app;
let browser;

before(async () => {
  browser = await startBrowser({ trustCert: readFileSync(process.env.ORBITNEST_E2E_TLS_CERT, 'utf8') });
  const origin = browser.origin;
  app = await startAppliance('passkeys-authjs', {
    settings: [
      `cors_allowed_origins=${JSON.stringify([origin])}`,
      `passkey=${JSON.stringify({ rp_id: 'localhost', rp_name: 'E2E', origins: [origin],
        user_verification: 'required', resident_key: 'required', attestation: 'none' })}`,
      'mfa_sign_in=aal1_session',
      // auth-js refreshes a session that expires within 90 s whenever it
      // reads it: with the harness's 60 s tokens every getSession() would
      // refresh. An hour keeps a token what the test was answered.
      'access_token_ttl_seconds=3600',
    ],
  });
});
after(async () => {
  await browser?.close();
  await app?.stop();
});

const show = (r) => JSON.stringify(r);
const claimsOf = (token) => decodeJwt(token);
const amrOf = (token) => (claimsOf(token).amr ?? []).map((m) => m.method);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// CDP gives credential ids in standard base64; WebAuthn's JSON in base64url.
const base64url = (b64) => b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
// auth-js's answer without an error.
const ok = (r, what) => {
  assert.equal(r.error, null, `${what}: ${show(r)}`);
  return r.data;
};

// A GoTrueClient named `name` in the device's page, against this project.
async function pageClient(device, name) {
  const made = await device.authClient(name, { url: app.authUrl, apikey: app.publishableKey });
  assert.ok(!made.error, `auth-js did not load in the page: ${show(made)}`);
  return made.storageKey;
}

// A user signed up and confirmed by auth-js in the page (signUp, the
// mailed code, verifyOtp): that client holds an aal1 session.
async function newPageUser(device, name, tag) {
  await pageClient(device, name);
  const email = address(tag);
  const password = newPassword();
  ok(await device.authjs(name, 'signUp', { email, password }), 'signUp');
  const code = await app.mail.codeFor(email);
  recordSecret(code.length >= 6 ? code : `code-${code}-unused`);
  const confirmed = ok(await device.authjs(name, 'verifyOtp', { email, token: code, type: 'signup' }), 'verifyOtp');
  assert.ok(confirmed.session?.access_token, show(confirmed));
  assert.equal(claimsOf(confirmed.session.access_token).aal, 'aal1');
  return { email, password, id: confirmed.user.id };
}

// The client's current access token (auth-js's getSession).
async function tokenOf(device, name) {
  const { session } = ok(await device.authjs(name, 'getSession'), 'getSession');
  return session?.access_token ?? null;
}

test('auth-js runs in the page: signUp, verifyOtp, signInWithPassword, getSession, getUser, signOut', async () => {
  const device = await browser.device();
  try {
    const user = await newPageUser(device, 'first', 'authjs-page');
    const storageKey = await pageClient(device, 'second');
    const signedIn = ok(await device.authjs('second', 'signInWithPassword', { email: user.email, password: user.password }),
      'signInWithPassword');
    assert.equal(signedIn.user.id, user.id);
    const claims = claimsOf(signedIn.session.access_token);
    assert.equal(claims.sub, user.id);
    assert.equal(claims.aal, 'aal1');
    assert.deepEqual(amrOf(signedIn.session.access_token), ['password']);
    // auth-js kept the session in the page's storage, under its own key.
    assert.equal(await tokenOf(device, 'second'), signedIn.session.access_token);
    const stored = await device.inPage((key) => localStorage.getItem(key), storageKey);
    assert.ok(stored?.includes(signedIn.session.refresh_token), `localStorage[${storageKey}] holds no session`);
    const me = ok(await device.authjs('second', 'getUser'), 'getUser');
    assert.equal(me.user.email, user.email);
    ok(await device.authjs('second', 'signOut', { scope: 'local' }), 'signOut');
    assert.equal(await tokenOf(device, 'second'), null);
    // The other client's session is its own, untouched.
    assert.equal(ok(await device.authjs('first', 'getUser'), 'getUser').user.id, user.id);
  } finally {
    await device.close();
  }
});

test('auth-js passkeys: registerPasskey, passkey.list / update, delete needs aal2, signInWithPasskey', async () => {
  // A synced platform passkey (backup eligible and backed up).
  const device = await browser.device({ defaultBackupEligibility: true, defaultBackupState: true });
  try {
    const alice = await newPageUser(device, 'alice', 'authjs-passkey');

    const saved = ok(await device.authjs('alice', 'registerPasskey'), 'registerPasskey');
    const held = await device.credentials();
    assert.equal(held.length, 1, 'the authenticator holds the new credential');
    assert.match(saved.id, uuid, show(saved));
    assert.equal(saved.credential_id, base64url(held[0].credentialId));
    assert.equal(held[0].rpId, 'localhost');
    assert.equal(held[0].isResidentCredential, true);
    assert.ok(typeof saved.friendly_name === 'string' && saved.friendly_name.length > 0, show(saved));
    assert.ok(!Number.isNaN(Date.parse(saved.created_at)), show(saved));
    assert.equal(saved.backup_eligible, true);
    assert.equal(saved.backed_up, true);

    const listed = ok(await device.authjs('alice', 'passkey.list'), 'passkey.list');
    assert.deepEqual(listed.map((p) => p.id), [saved.id]);
    assert.equal(listed[0].friendly_name, saved.friendly_name);
    assert.equal(listed[0].credential_id, saved.credential_id);

    const renamed = ok(await device.authjs('alice', 'passkey.update', { passkeyId: saved.id, friendlyName: 'Work laptop' }),
      'passkey.update');
    assert.equal(renamed.id, saved.id);
    assert.equal(renamed.friendly_name, 'Work laptop');
    assert.deepEqual(ok(await device.authjs('alice', 'passkey.list'), 'passkey.list').map((p) => p.friendly_name),
      ['Work laptop']);

    // The password session is aal1: it cannot revoke, and (the account now
    // having a passkey) cannot add another one either.
    const low = await device.authjs('alice', 'passkey.delete', { passkeyId: saved.id });
    assert.equal(low.error?.status, 403, show(low));
    assert.equal(low.error?.code, 'insufficient_aal', show(low));
    assert.equal(ok(await device.authjs('alice', 'passkey.list'), 'passkey.list').length, 1, 'the passkey remains');
    const lowAdd = await device.authjs('alice', 'registerPasskey');
    assert.equal(lowAdd.error?.code, 'insufficient_aal', show(lowAdd));
    assert.equal((await device.credentials()).length, 1, 'no ceremony ran');

    // Sign in with the passkey in a fresh client: a discoverable ceremony.
    await pageClient(device, 'alice-pk');
    const signedIn = ok(await device.authjs('alice-pk', 'signInWithPasskey'), 'signInWithPasskey');
    assert.equal(signedIn.user.id, alice.id);
    const token = signedIn.session.access_token;
    const claims = claimsOf(token);
    assert.equal(claims.sub, alice.id);
    assert.equal(claims.aal, 'aal2');
    assert.ok(amrOf(token).includes('webauthn'), show(claims.amr));
    assert.equal(await tokenOf(device, 'alice-pk'), token, 'auth-js saved the session');
    const level = ok(await device.authjs('alice-pk', 'mfa.getAuthenticatorAssuranceLevel'), 'getAuthenticatorAssuranceLevel');
    assert.equal(level.currentLevel, 'aal2');
    assert.equal(ok(await device.authjs('alice-pk', 'getUser'), 'getUser').user.email, alice.email);
    const used = ok(await device.authjs('alice-pk', 'passkey.list'), 'passkey.list');
    assert.ok(used[0].last_used_at && !Number.isNaN(Date.parse(used[0].last_used_at)), show(used));

    // From aal2 a second registration reaches the browser, which refuses:
    // the authenticator's credential is in excludeCredentials.
    const twice = await device.authjs('alice-pk', 'registerPasskey');
    assert.equal(twice.data, null, show(twice));
    assert.equal(twice.error?.code, 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED', show(twice));
    assert.equal((await device.credentials()).length, 1);

    // Revoked from aal2: gone from the list, the session it began is over,
    // and the credential the authenticator still holds signs in to nothing.
    const revoked = await device.authjs('alice-pk', 'passkey.delete', { passkeyId: saved.id });
    assert.equal(revoked.error, null, show(revoked));
    assert.deepEqual(ok(await device.authjs('alice', 'passkey.list'), 'passkey.list'), []);
    const ended = await device.authjs('alice-pk', 'getUser');
    assert.ok(ended.error, `the session the passkey began lives on: ${show(ended)}`);
    assert.equal((await device.credentials()).length, 1);
    await pageClient(device, 'alice-pk2');
    const stale = await device.authjs('alice-pk2', 'signInWithPasskey');
    assert.equal(stale.data?.session ?? null, null, show(stale));
    assert.equal(stale.error?.code, 'webauthn_credential_not_found', show(stale));
    assert.equal(await tokenOf(device, 'alice-pk2'), null);
  } finally {
    await device.close();
  }
});

// A security key (ctap2 over USB, resident keys, user verification): what
// auth-js's WebAuthn MFA asks for (its default creation options merged
// under the server's: authenticatorAttachment 'cross-platform', hints
// 'security-key').
const securityKey = () => browser.device({ transport: 'usb' });
const rp = () => ({ rpId: 'localhost', rpOrigins: [browser.origin] });

test('auth-js WebAuthn MFA: register (aal2), sign in again at aal1, authenticate (aal2), list, unenroll', async () => {
  const device = await securityKey();
  try {
    const bob = await newPageUser(device, 'bob', 'authjs-mfa');

    // enroll + challenge (create) + navigator.credentials.create + verify.
    const registered = ok(await device.authjs('bob', 'mfa.webauthn.register', { friendlyName: 'Security key', webauthn: rp() }),
      'mfa.webauthn.register');
    const regClaims = claimsOf(registered.access_token);
    assert.equal(regClaims.sub, bob.id);
    assert.equal(regClaims.aal, 'aal2');
    assert.ok(amrOf(registered.access_token).includes('mfa/webauthn'), show(regClaims.amr));
    assert.ok(Array.isArray(registered.recovery_codes) && registered.recovery_codes.length > 0,
      `the first verified factor comes with recovery codes: ${show(registered)}`);
    for (const c of registered.recovery_codes) recordSecret(c);
    assert.equal(await tokenOf(device, 'bob'), registered.access_token, 'auth-js saved the aal2 session');
    const held = await device.credentials();
    assert.equal(held.length, 1);
    assert.equal(held[0].rpId, 'localhost');

    const factors = ok(await device.authjs('bob', 'mfa.listFactors'), 'mfa.listFactors');
    assert.equal(factors.webauthn.length, 1, show(factors));
    assert.equal(factors.all.length, 1, show(factors));
    const factor = factors.webauthn[0];
    assert.match(factor.id, uuid);
    assert.equal(factor.factor_type, 'webauthn');
    assert.equal(factor.status, 'verified');
    assert.equal(factor.friendly_name, 'Security key');
    assert.deepEqual(factors.totp, []);
    const factorId = factor.id;
    let level = ok(await device.authjs('bob', 'mfa.getAuthenticatorAssuranceLevel'), 'getAuthenticatorAssuranceLevel');
    assert.equal(level.currentLevel, 'aal2');

    // A second factor is no passkey: its credential signs nobody in at the
    // passkey endpoints. auth-js's discoverable sign-in finds nothing to
    // offer when the factor's credential is not resident (authd asks for
    // residentKey 'discouraged'), or is refused by authd when it is; the
    // credential named by the page (allowCredentials, not signed) is refused.
    await pageClient(device, 'bob-pk');
    const notAPasskey = await device.authjs('bob-pk', 'signInWithPasskey');
    assert.equal(notAPasskey.data?.session ?? null, null, show(notAPasskey));
    if (held[0].isResidentCredential) {
      assert.equal(notAPasskey.error?.code, 'webauthn_credential_not_found', show(notAPasskey));
    } else {
      assert.equal(notAPasskey.error?.name, 'NotAllowedError', show(notAPasskey));
    }
    assert.equal(await tokenOf(device, 'bob-pk'), null);
    const asPasskey = await device.call(`${app.authUrl}/passkeys/authentication/options`,
      { headers: { apikey: app.publishableKey }, body: {} });
    assert.equal(asPasskey.status, 200, show(asPasskey));
    const signed = await device.get({ ...asPasskey.body.options,
      allowCredentials: [{ type: 'public-key', id: base64url(held[0].credentialId) }] });
    assert.ok(signed.credential, show(signed));
    const refused = await device.call(`${app.authUrl}/passkeys/authentication/verify`, { headers: { apikey: app.publishableKey },
      body: { challenge_id: asPasskey.body.challenge_id, credential: signed.credential } });
    assert.ok(refused.status === 400 || refused.status === 401, show(refused));
    assert.equal(refused.body.error_code, 'webauthn_credential_not_found', show(refused));
    assert.equal(refused.body.access_token, undefined);

    // Signed out and in again with the password: aal1, aal2 next.
    ok(await device.authjs('bob', 'signOut'), 'signOut');
    assert.equal(await tokenOf(device, 'bob'), null);
    const again = ok(await device.authjs('bob', 'signInWithPassword', { email: bob.email, password: bob.password }),
      'signInWithPassword');
    const low = again.session.access_token;
    assert.equal(claimsOf(low).aal, 'aal1');
    level = ok(await device.authjs('bob', 'mfa.getAuthenticatorAssuranceLevel'), 'getAuthenticatorAssuranceLevel');
    assert.equal(level.currentLevel, 'aal1');
    assert.equal(level.nextLevel, 'aal2');

    // The client names the relying party; another host or origin is refused
    // before any ceremony.
    const otherHost = await device.authjs('bob', 'mfa.webauthn.authenticate',
      { factorId, webauthn: { rpId: 'example.com', rpOrigins: [browser.origin] } });
    assert.equal(otherHost.error?.status, 400, show(otherHost));
    assert.equal(otherHost.error?.code, 'webauthn_rp_mismatch', show(otherHost));
    const otherOrigin = await device.authjs('bob', 'mfa.webauthn.authenticate',
      { factorId, webauthn: { rpId: 'localhost', rpOrigins: ['https://evil.example'] } });
    assert.equal(otherOrigin.error?.code, 'webauthn_rp_mismatch', show(otherOrigin));
    assert.equal(await tokenOf(device, 'bob'), low, 'still the aal1 session');

    // challenge (request) + navigator.credentials.get + verify.
    const raised = ok(await device.authjs('bob', 'mfa.webauthn.authenticate', { factorId, webauthn: rp() }),
      'mfa.webauthn.authenticate');
    const raisedClaims = claimsOf(raised.access_token);
    assert.equal(raisedClaims.sub, bob.id);
    assert.equal(raisedClaims.aal, 'aal2');
    assert.ok(amrOf(raised.access_token).includes('mfa/webauthn'), show(raisedClaims.amr));
    assert.equal(raisedClaims.session_id, claimsOf(low).session_id, 'the password session, raised');
    assert.equal(await tokenOf(device, 'bob'), raised.access_token);
    level = ok(await device.authjs('bob', 'mfa.getAuthenticatorAssuranceLevel'), 'getAuthenticatorAssuranceLevel');
    assert.equal(level.currentLevel, 'aal2');

    // One challenge, one assertion, verified twice: the second is refused;
    // the same assertion on a fresh challenge is refused too.
    const spent = await device.inPage(async ([factorId, webauthn]) => {
      const { authjs } = window.e2e;
      const auth = authjs.get('bob');
      const { webAuthnAbortService } = await import('/auth-js/lib/webauthn');
      const timer = setTimeout(() => webAuthnAbortService.cancelCeremony(), 15000);
      try {
        const challenge = await auth.mfa.webauthn.challenge({ factorId, webauthn });
        if (!challenge.data) return { challenge: authjs.plain(challenge) };
        const params = { factorId, challengeId: challenge.data.challengeId, webauthn: { ...webauthn,
          type: challenge.data.webauthn.type, credential_response: challenge.data.webauthn.credential_response } };
        const first = authjs.plain(await auth.mfa.webauthn.verify(params));
        const second = authjs.plain(await auth.mfa.webauthn.verify(params));
        const fresh = await auth.mfa.challenge({ factorId, webauthn });
        const third = fresh.data
          ? authjs.plain(await auth.mfa.webauthn.verify({ ...params, challengeId: fresh.data.id }))
          : { freshChallenge: authjs.plain(fresh) };
        return { type: challenge.data.webauthn.type, first, second, third };
      } finally { clearTimeout(timer); }
    }, [factorId, rp()]);
    assert.equal(spent.type, 'request', show(spent));
    assert.equal(spent.first?.error, null, show(spent));
    assert.equal(claimsOf(spent.first.data.access_token).aal, 'aal2');
    assert.ok(spent.second.error, `a spent challenge verified again: ${show(spent.second)}`);
    assert.ok(spent.second.error.status >= 400 && spent.second.error.status < 500, show(spent.second));
    assert.equal(spent.second.data, null);
    assert.ok(spent.third.error, `an assertion verified for another challenge: ${show(spent.third)}`);
    assert.ok(spent.third.error.status >= 400 && spent.third.error.status < 500, show(spent.third));
    assert.equal(spent.third.data, null);

    // Unenrolled from aal2: gone, and authenticate has nothing to challenge.
    const removed = await device.authjs('bob', 'mfa.unenroll', { factorId });
    assert.equal(removed.error, null, show(removed));
    const none = ok(await device.authjs('bob', 'mfa.listFactors'), 'mfa.listFactors');
    assert.deepEqual(none.all, [], show(none));
    assert.deepEqual(none.webauthn, []);
    const gone = await device.authjs('bob', 'mfa.webauthn.authenticate', { factorId, webauthn: rp() });
    assert.ok(gone.error && gone.error.status >= 400 && gone.error.status < 500, show(gone));
  } finally {
    await device.close();
  }
});

test('mfa_sign_in=challenge: the password answers a challenge token with WebAuthn options; the page\'s own get() and /mfa/verify give aal2', async () => {
  const device = await securityKey();
  try {
    const carol = await newPageUser(device, 'carol', 'authjs-challenge');
    const registered = ok(await device.authjs('carol', 'mfa.webauthn.register', { friendlyName: 'Carol key', webauthn: rp() }),
      'mfa.webauthn.register');
    assert.equal(claimsOf(registered.access_token).aal, 'aal2');
    for (const c of registered.recovery_codes ?? []) recordSecret(c);
    const factorId = ok(await device.authjs('carol', 'mfa.listFactors'), 'mfa.listFactors').webauthn[0]?.id;
    assert.match(factorId ?? '', uuid);
    const [held] = await device.credentials();

    app.authdCli('project', 'settings', 'e2e', 'mfa_sign_in=challenge');
    await new Promise((r) => setTimeout(r, 5500));  // authd caches a project for 5 s

    const apikey = { apikey: app.publishableKey };
    const signIn = () => device.call(`${app.authUrl}/token?grant_type=password`,
      { headers: apikey, body: { email: carol.email, password: carol.password } });
    const pending = await signIn();
    assert.equal(pending.status, 200, show(pending));
    assert.equal(pending.body.mfa_required, true, show(pending));
    assert.equal(pending.body.access_token, undefined);
    assert.equal(pending.body.refresh_token, undefined);
    assert.equal(typeof pending.body.challenge_token, 'string');
    recordSecret(pending.body.challenge_token);
    assert.deepEqual(pending.body.factors.map((f) => [f.id, f.factor_type]), [[factorId, 'webauthn']], show(pending.body.factors));
    const publicKey = pending.body.webauthn?.credential_options?.publicKey;
    assert.ok(publicKey?.challenge, show(pending.body));
    assert.equal(publicKey.rpId, 'localhost');
    assert.ok((publicKey.allowCredentials ?? []).some((c) => c.id === base64url(held.credentialId)),
      show(publicKey.allowCredentials));

    const got = await device.get(publicKey);
    assert.ok(got.credential, `get() failed: ${show(got.error)}`);
    const verify = (challengeToken) => device.call(`${app.authUrl}/mfa/verify`, { headers: apikey,
      body: { challenge_token: challengeToken, factor_id: factorId,
        webauthn: { type: 'request', credential_response: got.credential } } });
    const done = await verify(pending.body.challenge_token);
    assert.equal(done.status, 200, show(done));
    assert.equal(done.body.user.id, carol.id);
    const claims = claimsOf(done.body.access_token);
    assert.equal(claims.aal, 'aal2');
    assert.ok(amrOf(done.body.access_token).includes('mfa/webauthn'), show(claims.amr));
    assert.ok(amrOf(done.body.access_token).includes('password'), show(claims.amr));

    // The token is spent; a new token with the old assertion is refused too.
    const replay = await verify(pending.body.challenge_token);
    assert.ok(replay.status >= 400 && replay.status < 500, show(replay));
    assert.equal(replay.body.access_token, undefined);
    const next = await signIn();
    assert.equal(next.body.mfa_required, true, show(next));
    recordSecret(next.body.challenge_token);
    const oldAssertion = await verify(next.body.challenge_token);
    assert.ok(oldAssertion.status >= 400 && oldAssertion.status < 500, show(oldAssertion));
    assert.equal(oldAssertion.body.access_token, undefined);

    // auth-js's signInWithPassword gets no session in this mode either.
    await pageClient(device, 'carol-password');
    const viaAuthJs = await device.authjs('carol-password', 'signInWithPassword', { email: carol.email, password: carol.password });
    assert.equal(viaAuthJs.data?.session ?? null, null, show(viaAuthJs));
  } finally {
    app.authdCli('project', 'settings', 'e2e', 'mfa_sign_in=aal1_session');
    await device.close();
  }
});
