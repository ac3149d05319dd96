// The seed's MFA sign-in (mfa_sign_in = challenge, the default) over raw
// HTTPS, for a project's users and for admins: once a user has a verified
// factor, a password or a mailed code answers no session at all, only a
// challenge token; POST /mfa/verify with a TOTP code (computed by otpauth,
// as an authenticator app does) answers an aal2 session. The token is
// single-use, bound to the client address, and dies after 5 wrong codes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { after, before, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { decodeJwt } from 'jose';
import { address, newPassword, startAppliance } from './appliance.mjs';

let app;
before(async () => {
  app = await startAppliance('mfachallenge', { settings: ['debug_mode=true'] });
});
after(async () => app?.stop());

// POST JSON over HTTPS from a chosen local address (a second client on loopback).
function post(url, body, { token, apikey, from = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(url, {
      method: 'POST',
      localAddress: from,
      family: 4,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        ...(apikey ? { apikey } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const totpOf = (secret) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
// The next time step's code: keyd accepts one step ahead, and each accepted
// step must be newer than the last for that factor.
const nextCode = (totp) => totp.generate({ timestamp: Date.now() + 30000 });

// Enrolls and verifies a TOTP factor with `token` under `base`; returns the TOTP.
async function enrollTotp(base, token, apikey) {
  const enrolled = await post(`${base}/factors`, { factor_type: 'totp' }, { token, apikey });
  assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
  const totp = totpOf(enrolled.body.totp.secret);
  const challenge = await post(`${base}/factors/${enrolled.body.id}/challenge`, {}, { token, apikey });
  assert.equal(challenge.status, 200);
  const verified = await post(`${base}/factors/${enrolled.body.id}/verify`,
    { challenge_id: challenge.body.id, code: totp.generate() }, { token, apikey });
  assert.equal(verified.status, 200, JSON.stringify(verified.body));
  assert.equal(decodeJwt(verified.body.access_token).aal, 'aal2');
  return { totp, secret: enrolled.body.totp.secret, recoveryCodes: verified.body.recovery_codes, session: verified.body };
}

test('a project user with a factor gets no session before the second factor', async () => {
  const apikey = app.publishableKey;
  const email = address('challenge');
  const password = newPassword();
  assert.equal((await post(`${app.authUrl}/signup`, { email, password }, { apikey })).status, 200);
  const first = await post(`${app.authUrl}/verify`, { type: 'signup', email, token: '1234' }, { apikey });
  assert.equal(first.status, 200);
  const { totp } = await enrollTotp(app.authUrl, first.body.access_token, apikey);

  // The password alone: no session, a challenge token.
  const signIn = () => post(`${app.authUrl}/token?grant_type=password`, { email, password }, { apikey });
  const pending = await signIn();
  assert.equal(pending.status, 200);
  assert.equal(pending.body.mfa_required, true);
  assert.equal(pending.body.access_token, undefined);
  assert.equal(pending.body.refresh_token, undefined);
  assert.equal(pending.body.factors.length, 1);
  // auth-js's signInWithPassword gets no session either.
  const viaAuthJs = await app.authClient().signInWithPassword({ email, password });
  assert.equal(viaAuthJs.data?.session ?? null, null);
  // A mailed code is a first factor too.
  assert.equal((await post(`${app.authUrl}/otp`, { email }, { apikey })).status, 200);
  const byCode = await post(`${app.authUrl}/verify`, { type: 'email', email, token: '1234' }, { apikey });
  assert.equal(byCode.body.mfa_required, true);
  assert.equal(byCode.body.access_token, undefined);

  // Five wrong codes kill the token, even for the right code after.
  for (let i = 0; i < 5; i++) {
    const wrong = await post(`${app.authUrl}/mfa/verify`, { challenge_token: pending.body.challenge_token, code: '000000' }, { apikey });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.error_code, 'mfa_verification_failed');
  }
  const dead = await post(`${app.authUrl}/mfa/verify`,
    { challenge_token: pending.body.challenge_token, code: nextCode(totp) }, { apikey });
  assert.equal(dead.body.error_code, 'mfa_challenge_expired');

  // A stolen token fails from another address; the owner's works, once.
  const again = await signIn();
  const stolen = await post(`${app.authUrl}/mfa/verify`,
    { challenge_token: again.body.challenge_token, code: nextCode(totp) }, { apikey, from: '127.0.0.2' });
  assert.equal(stolen.status, 422);
  assert.equal(stolen.body.error_code, 'mfa_ip_address_mismatch');
  const done = await post(`${app.authUrl}/mfa/verify`,
    { challenge_token: again.body.challenge_token, code: nextCode(totp) }, { apikey });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  const claims = decodeJwt(done.body.access_token);
  assert.equal(claims.aal, 'aal2');
  assert.deepEqual(claims.amr.map((m) => m.method).sort(), ['password', 'totp']);
  const replay = await post(`${app.authUrl}/mfa/verify`,
    { challenge_token: again.body.challenge_token, code: nextCode(totp) }, { apikey });
  assert.equal(replay.body.error_code, 'mfa_challenge_expired');
  // Nobody holds a session below aal2 for this user.
  assert.equal(app.sql(`SELECT count(*) FROM auth.sessions s JOIN auth.users u ON u.id = s.user_id
                        WHERE u.email = '${email}' AND s.aal = 'aal1'`), '0');
});

test('an admin with a factor signs in with the second factor too', async () => {
  const email = 'mfa-admin@example.com';
  const password = newPassword() + '-long-enough';
  execFileSync(app.authdBin, ['--config', app.authdConfig, 'admin', 'create', email],
    { input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  const first = await post(`${app.adminUrl}/token?grant_type=password`, { email, password });
  assert.equal(first.status, 200);
  assert.ok(first.body.access_token, 'no factor yet: a session');
  const { totp } = await enrollTotp(app.adminUrl, first.body.access_token);
  const pending = await post(`${app.adminUrl}/token?grant_type=password`, { email, password });
  assert.equal(pending.body.mfa_required, true);
  assert.equal(pending.body.access_token, undefined);
  const done = await post(`${app.adminUrl}/mfa/verify`, { challenge_token: pending.body.challenge_token, code: nextCode(totp) });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(decodeJwt(done.body.access_token).aal, 'aal2');
  assert.equal(decodeJwt(done.body.access_token).role, 'admin');
  // A project's challenge token is nothing on the admin API, and the other way round.
  const projectPending = await post(`${app.adminUrl}/mfa/verify`, { challenge_token: pending.body.challenge_token, code: '123456' });
  assert.equal(projectPending.body.error_code, 'mfa_challenge_expired');
});

async function get(url, token, apikey) {
  const r = await fetch(url, { headers: { Authorization: `Bearer ${token}`, ...(apikey ? { apikey } : {}) } });
  return { status: r.status, body: await r.json() };
}

test('recovery codes: ten shown once, each works once in place of a TOTP code, a regenerated set replaces them', async () => {
  const apikey = app.publishableKey;
  const email = address('recovery');
  const password = newPassword();
  assert.equal((await post(`${app.authUrl}/signup`, { email, password }, { apikey })).status, 200);
  const first = await post(`${app.authUrl}/verify`, { type: 'signup', email, token: '1234' }, { apikey });
  const { secret, recoveryCodes, session } = await enrollTotp(app.authUrl, first.body.access_token, apikey);
  assert.equal(recoveryCodes.length, 10);
  for (const code of recoveryCodes) assert.match(code, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
  assert.equal(new Set(recoveryCodes).size, 10);

  // A database dump holds neither the TOTP seed nor any recovery code.
  const dump = execFileSync('pg_dump', ['-h', app.pgHost, app.db]).toString();
  assert.ok(!dump.includes(secret), 'no TOTP seed in the dump');
  for (const code of recoveryCodes) {
    assert.ok(!dump.includes(code) && !dump.includes(code.replace('-', '')), 'no recovery code in the dump');
  }

  const signIn = () => post(`${app.authUrl}/token?grant_type=password`, { email, password }, { apikey });
  const pending = await signIn();
  // Any case, without the dash: it is spent, and the session says how.
  const typed = recoveryCodes[0].replace('-', '').toUpperCase();
  const used = await post(`${app.authUrl}/mfa/verify`, { challenge_token: pending.body.challenge_token, code: typed }, { apikey });
  assert.equal(used.status, 200, JSON.stringify(used.body));
  const claims = decodeJwt(used.body.access_token);
  assert.equal(claims.aal, 'aal2');
  assert.ok(claims.amr.some((m) => m.method === 'mfa/recovery_code'));
  assert.equal((await get(`${app.authUrl}/user`, used.body.access_token, apikey)).body.recovery_codes_remaining, 9);
  const again = await signIn();
  const spent = await post(`${app.authUrl}/mfa/verify`, { challenge_token: again.body.challenge_token, code: recoveryCodes[0] }, { apikey });
  assert.equal(spent.body.error_code, 'mfa_verification_failed');

  // Regenerating (aal2) replaces the whole set.
  const fresh = await post(`${app.authUrl}/factors/recovery_codes/regenerate`, {}, { token: session.access_token, apikey });
  assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
  assert.equal(fresh.body.recovery_codes.length, 10);
  const third = await signIn();
  const old = await post(`${app.authUrl}/mfa/verify`, { challenge_token: third.body.challenge_token, code: recoveryCodes[1] }, { apikey });
  assert.equal(old.body.error_code, 'mfa_verification_failed');
  const renewed = await post(`${app.authUrl}/mfa/verify`, { challenge_token: third.body.challenge_token, code: fresh.body.recovery_codes[0] }, { apikey });
  assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
  assert.equal((await get(`${app.authUrl}/user`, renewed.body.access_token, apikey)).body.recovery_codes_remaining, 9);
});

async function userWithFactor(tag) {
  const apikey = app.publishableKey;
  const email = address(tag);
  const password = newPassword();
  assert.equal((await post(`${app.authUrl}/signup`, { email, password }, { apikey })).status, 200);
  const first = await post(`${app.authUrl}/verify`, { type: 'signup', email, token: '1234' }, { apikey });
  const enrolled = await enrollTotp(app.authUrl, first.body.access_token, apikey);
  const signIn = () => post(`${app.authUrl}/token?grant_type=password`, { email, password }, { apikey });
  return { email, password, signIn, ...enrolled };
}

test("one user's wrong codes never lock another user out", async () => {
  const apikey = app.publishableKey;
  const guesser = await userWithFactor('guesser');
  for (let round = 0; round < 2; round++) {  // a token dies after 5: two tokens, 10 wrong codes
    const pending = await guesser.signIn();
    for (let i = 0; i < 5; i++) {
      await post(`${app.authUrl}/mfa/verify`, { challenge_token: pending.body.challenge_token, code: '000000' }, { apikey });
    }
  }
  const locked = await guesser.signIn();
  const refused = await post(`${app.authUrl}/mfa/verify`,
    { challenge_token: locked.body.challenge_token, code: nextCode(guesser.totp) }, { apikey });
  assert.equal(refused.status, 429, 'the guesser is out of codes for the hour');
  const other = await userWithFactor('bystander');
  const pending = await other.signIn();
  const fine = await post(`${app.authUrl}/mfa/verify`,
    { challenge_token: pending.body.challenge_token, code: nextCode(other.totp) }, { apikey });
  assert.equal(fine.status, 200, JSON.stringify(fine.body));
});

test('a mailbox alone cannot reset the password of a user with a second factor', async () => {
  const apikey = app.publishableKey;
  const user = await userWithFactor('reset');
  assert.equal((await post(`${app.authUrl}/recover`, { email: user.email }, { apikey })).status, 200);
  const reset = await post(`${app.authUrl}/verify`,
    { type: 'recovery', email: user.email, token: '1234', password: 'a brand new password 1' }, { apikey });
  assert.equal(reset.status, 401, JSON.stringify(reset.body));
  assert.equal(reset.body.error_code, 'insufficient_aal');
  const still = await user.signIn();
  assert.equal(still.body.mfa_required, true, 'the old password still signs in');
});
