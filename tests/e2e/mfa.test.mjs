// TOTP MFA end to end with the unmodified auth-js (GoTrue's aal1-session
// flow: mfa.enroll / challenge / verify / challengeAndVerify / listFactors /
// unenroll / getAuthenticatorAssuranceLevel) and otpauth computing codes
// from the enrolled secret, as an authenticator app does. keyd checks every
// code; a code once accepted is refused on a new challenge.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { decodeJwt } from 'jose';
import { address, startAppliance } from './appliance.mjs';

let app;
before(async () => {
  app = await startAppliance('mfa', { settings: ['debug_mode=true', 'mfa_sign_in=aal1_session'] });
});
after(async () => app?.stop());

async function signedIn() {
  const auth = app.authClient();
  const email = address('mfa');
  assert.equal((await auth.signInWithOtp({ email })).error, null);
  const { error } = await auth.verifyOtp({ email, token: '1234', type: 'email' });
  assert.equal(error, null);
  return { auth, email };
}

const totpOf = (secret) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

test('enroll, verify, list and unenroll a TOTP factor with auth-js', async () => {
  const { auth, email } = await signedIn();
  const enrolled = await auth.mfa.enroll({ factorType: 'totp', friendlyName: 'phone app' });
  assert.equal(enrolled.error, null, JSON.stringify(enrolled.error));
  const { id, totp } = enrolled.data;
  assert.match(totp.qr_code, /^data:image\/svg\+xml;utf-8,<svg /);
  assert.match(totp.uri, /^otpauth:\/\/totp\//);
  assert.ok(totp.uri.includes(encodeURIComponent(email)) || totp.uri.includes(email));
  assert.equal(OTPAuth.URI.parse(totp.uri).secret.base32, totp.secret);
  // The database holds no seed: only keyd's sealed blob.
  const stored = app.sql(`SELECT encode(sealed_secret, 'hex') FROM auth.mfa_factors WHERE id = '${id}'`);
  assert.ok(stored.length > 0);
  assert.ok(!stored.includes(Buffer.from(totp.secret).toString('hex')));

  let aal = await auth.mfa.getAuthenticatorAssuranceLevel();
  assert.equal(aal.data.currentLevel, 'aal1');

  const wrong = await auth.mfa.challengeAndVerify({ factorId: id, code: '000000' });
  assert.equal(wrong.error?.code, 'mfa_verification_failed');

  const code = totpOf(totp.secret).generate();
  const verified = await auth.mfa.challengeAndVerify({ factorId: id, code });
  assert.equal(verified.error, null, JSON.stringify(verified.error));
  const claims = decodeJwt(verified.data.access_token);
  assert.equal(claims.aal, 'aal2');
  assert.equal(claims.amr[0].method, 'totp');
  aal = await auth.mfa.getAuthenticatorAssuranceLevel();
  assert.equal(aal.data.currentLevel, 'aal2');

  // The same code on a new challenge: refused (GoTrue would accept it).
  const replay = await auth.mfa.challengeAndVerify({ factorId: id, code });
  assert.equal(replay.error?.code, 'mfa_verification_failed');

  const factors = await auth.mfa.listFactors();
  assert.equal(factors.error, null);
  assert.equal(factors.data.totp.length, 1);
  assert.equal(factors.data.totp[0].status, 'verified');
  assert.equal(factors.data.totp[0].friendly_name, 'phone app');

  // A refresh keeps aal2 (stored on the session).
  const refreshed = await auth.refreshSession();
  assert.equal(refreshed.error, null);
  assert.equal(decodeJwt(refreshed.data.session.access_token).aal, 'aal2');

  const removed = await auth.mfa.unenroll({ factorId: id });
  assert.equal(removed.error, null);
  assert.equal((await auth.mfa.listFactors()).data.all.length, 0);
});

test('a second sign-in is aal1 until its factor is verified, and cannot change the password', async () => {
  const { auth, email } = await signedIn();
  const { data } = await auth.mfa.enroll({ factorType: 'totp' });
  const otp = totpOf(data.totp.secret);
  assert.equal((await auth.mfa.challengeAndVerify({ factorId: data.id, code: otp.generate() })).error, null);

  const other = app.authClient();
  assert.equal((await other.signInWithOtp({ email })).error, null);
  assert.equal((await other.verifyOtp({ email, token: '1234', type: 'email' })).error, null);
  const level = await other.mfa.getAuthenticatorAssuranceLevel();
  assert.equal(level.data.currentLevel, 'aal1');
  assert.equal(level.data.nextLevel, 'aal2');
  const change = await other.updateUser({ password: 'a new password 123' });
  assert.equal(change.error?.code, 'insufficient_aal');
  // Enrolling another factor or removing this one needs aal2 too.
  assert.equal((await other.mfa.enroll({ factorType: 'totp' })).error?.code, 'insufficient_aal');
  assert.equal((await other.mfa.unenroll({ factorId: data.id })).error?.code, 'insufficient_aal');
  // So does regenerating recovery codes.
  const { data: { session } } = await other.getSession();
  const regen = await fetch(`${app.authUrl}/factors/recovery_codes/regenerate`, {
    method: 'POST',
    headers: { apikey: app.publishableKey, Authorization: `Bearer ${session.access_token}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  assert.equal(regen.status, 403);
  assert.equal((await regen.json()).error_code, 'insufficient_aal');

  // Switched to the challenge mode, the project lets no aal1 session of a
  // user with a factor live on: its refresh is refused (GoTrue's low-AAL).
  app.authdCli('project', 'settings', 'e2e', 'mfa_sign_in=challenge');
  await new Promise((r) => setTimeout(r, 5500));  // authd caches a project for 5 s
  const low = await other.refreshSession();
  assert.equal(low.error?.code, 'session_expired');
  const raised = await auth.refreshSession();  // the aal2 session lives on
  assert.equal(raised.error, null);
  app.authdCli('project', 'settings', 'e2e', 'mfa_sign_in=aal1_session');
  await new Promise((r) => setTimeout(r, 5500));  // back to aal1_session for the tests after this one
});

test('removing a factor takes effect at once on the sessions it raised, whatever their tokens say', async () => {
  const { auth: owner, email } = await signedIn();
  const first = (await owner.mfa.enroll({ factorType: 'totp', friendlyName: 'old phone' })).data;
  const oldTotp = totpOf(first.totp.secret);
  assert.equal((await owner.mfa.challengeAndVerify({ factorId: first.id, code: oldTotp.generate() })).error, null);
  const second = (await owner.mfa.enroll({ factorType: 'totp', friendlyName: 'new phone' })).data;
  assert.equal((await owner.mfa.challengeAndVerify({ factorId: second.id, code: totpOf(second.totp.secret).generate() })).error, null);

  // Someone holding the old phone raises another session with it...
  const thief = app.authClient();
  assert.equal((await thief.signInWithOtp({ email })).error, null);
  assert.equal((await thief.verifyOtp({ email, token: '1234', type: 'email' })).error, null);
  const raised = await thief.mfa.challengeAndVerify({ factorId: first.id, code: oldTotp.generate({ timestamp: Date.now() + 30000 }) });
  assert.equal(raised.error, null, JSON.stringify(raised.error));
  assert.equal(decodeJwt(raised.data.access_token).aal, 'aal2');
  // ...the owner removes the old phone: the thief's aal2 token no longer acts as aal2.
  assert.equal((await owner.mfa.unenroll({ factorId: first.id })).error, null);
  const takeover = await thief.updateUser({ password: 'a thief password 123' });
  assert.equal(takeover.error?.code, 'insufficient_aal');
});
