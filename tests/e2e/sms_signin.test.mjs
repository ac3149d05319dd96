// SMS sign-in end to end, with the unmodified auth-js and a server that
// speaks Twilio's Messages API (twilio_sink.mjs): signInWithOtp({ phone })
// texts a code through the project's Twilio account, verifyOtp({ phone,
// token, type: 'sms' }) signs in. Twilio refusing or down: the API still
// answers at once, the code waits in the outbox and goes out on a retry.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { recordSecret, startAppliance } from './appliance.mjs';
import { TwilioSink } from './twilio_sink.mjs';

let app;
let twilio;
const number = () => `+1555${String(randomInt(0, 1e7)).padStart(7, '0')}`;

before(async () => {
  app = await startAppliance('smssignin');
  twilio = new TwilioSink({ authToken: randomBytes(16).toString('hex') });
  recordSecret(twilio.authToken);
  await twilio.listen();
  app.authdCli('project', 'settings', 'e2e', `twilio=${JSON.stringify({
    account_sid: twilio.accountSid,
    from: '+15005550006',
    api_base_url: twilio.baseUrl,
    ca_file: process.env.ORBITNEST_E2E_TLS_CERT,
  })}`);
  app.authdCliInput(`${twilio.authToken}\n`, 'project', 'twilio-token', 'e2e');
  await new Promise((r) => setTimeout(r, 5500));  // authd caches a project for 5 s
});
after(async () => {
  twilio?.close();
  await app?.stop();
});

test('a texted code signs in; the settings say phone is on', async () => {
  const settings = await (await fetch(`${app.authUrl}/settings`, { headers: { apikey: app.publishableKey } })).json();
  assert.equal(settings.external.phone, true);
  const phone = number();
  const auth = app.authClient();
  assert.equal((await auth.signInWithOtp({ phone })).error, null);
  const sms = await twilio.waitFor(phone);
  assert.equal(sms.from, '+15005550006');
  assert.match(sms.body, /End to end code is \d{4,10}\. Do not share it\./);
  const { data, error } = await auth.verifyOtp({ phone, token: sms.code, type: 'sms' });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.user.phone, phone.slice(1));
  assert.equal(decodeJwt(data.session.access_token).amr[0].method, 'sms');
  // The code is spent, and the queued text no longer holds it.
  assert.equal((await app.authClient().verifyOtp({ phone, token: sms.code, type: 'sms' })).error?.code, 'otp_expired');
  assert.equal(app.sql(`SELECT count(*) FROM auth.outbox WHERE recipient = '${phone}' AND body LIKE '%${sms.code}%'`), '0');
  // (Codes are too short for the suite's secret scan: the text itself must not be logged.)
  assert.ok(!readFileSync(app.authdLog, 'utf8').includes(sms.body), 'the text is not in authd\'s log');
});

test('Twilio failing: the API answers at once and the code goes out on a retry', async () => {
  const phone = number();
  twilio.failNext(1, 500);
  const started = Date.now();
  assert.equal((await app.authClient().signInWithOtp({ phone })).error, null);
  assert.ok(Date.now() - started < 2000, 'the request does not wait for Twilio');
  const sms = await twilio.waitFor(phone, 20000);
  assert.ok(twilio.requestsTo(phone).length >= 2, 'retried after the 500');
  const { error } = await app.authClient().verifyOtp({ phone, token: sms.code, type: 'sms' });
  assert.equal(error, null);
});
