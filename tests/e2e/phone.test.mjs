// SMS sign-in with the unmodified auth-js: signInWithOtp({ phone }) and
// verifyOtp({ phone, token, type: 'sms' }) — the user made on the first
// sign-in, found again on the next, one account for every spelling of
// one number. (A debug project: code 1234, nothing sent; the Twilio path
// is in sms.test.mjs.)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startAppliance } from './appliance.mjs';

let app;
before(async () => {
  app = await startAppliance('phone', { settings: ['debug_mode=true', 'otp_resend_seconds=0'] });
});
after(async () => app?.stop());

test('a phone number signs in with a texted code, creating the user once', async () => {
  const auth = app.authClient();
  assert.equal((await auth.signInWithOtp({ phone: '+1 (415) 555-0199' })).error, null);
  const { data, error } = await auth.verifyOtp({ phone: '+14155550199', token: '1234', type: 'sms' });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.user.phone, '14155550199');
  assert.equal(data.user.identities[0].provider, 'phone');
  const claims = decodeJwt(data.session.access_token);
  assert.equal(claims.phone, '14155550199');
  assert.equal(claims.amr[0].method, 'sms');

  // Another spelling of the number: the same user.
  const again = app.authClient();
  assert.equal((await again.signInWithOtp({ phone: '0014155550199' })).error, null);
  const second = await again.verifyOtp({ phone: '+1 415 555 0199', token: '1234', type: 'sms' });
  assert.equal(second.error, null);
  assert.equal(second.data.user.id, data.user.id);
  assert.equal(app.sql("SELECT count(*) FROM auth.users WHERE phone = '14155550199'"), '1');

  // A wrong code, a malformed number: clear errors, nothing made.
  // Sends to one number are limited (the resend interval, here 0, and the hourly count).
  const wrong = await app.authClient().verifyOtp({ phone: '+14155550199', token: '9999', type: 'sms' });
  assert.equal(wrong.error?.code, 'otp_expired');
  const malformed = await app.authClient().signInWithOtp({ phone: '415-555-0199' });
  assert.equal(malformed.error?.status, 400);
  assert.match(malformed.error?.message, /E\.164/);
  const noUser = await app.authClient().signInWithOtp({ phone: '+14155550100', options: { shouldCreateUser: false } });
  assert.equal(noUser.error?.code, 'otp_disabled');
  assert.equal(app.sql("SELECT count(*) FROM auth.users WHERE phone = '14155550100'"), '0');
});
