// SMS through the outbox to a server that speaks Twilio's Messages API
// (twilio_sink.mjs, HTTPS with the test certificate): a project without
// Twilio keeps its SMS queued with the reason; once configured (the token
// sealed from stdin) they go out with basic auth and Twilio's form fields;
// 500 and 429 (Retry-After honoured) are retried, a wrong token too until
// it is fixed; a 400 (21211) is given up at once with its reason in
// `authd outbox list`; a server that never answers holds the outbox no
// longer than the 10 s timeout. The token and the codes never reach
// authd's log. SMS are queued with SQL, as the phone flows will queue them.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { recordSecret, startAppliance } from './appliance.mjs';
import { TwilioSink } from './twilio_sink.mjs';

let app;
let twilio;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sql = (query) => app.sql(query);
const phone = () => `+1555${String(randomInt(0, 1e7)).padStart(7, '0')}`;
const codes = [];

before(async () => {
  app = await startAppliance('sms');
  twilio = new TwilioSink({ authToken: randomBytes(16).toString('hex') });
  recordSecret(twilio.authToken);
  await twilio.listen();
});
after(async () => {
  twilio?.close();
  await app?.stop();
});

function configureTwilio(extra = {}) {
  app.authdCli('project', 'settings', 'e2e', `twilio=${JSON.stringify({
    account_sid: twilio.accountSid,
    from: '+15005550006',
    api_base_url: twilio.baseUrl,
    ca_file: process.env.ORBITNEST_E2E_TLS_CERT,
    ...extra,
  })}`);
}

function setToken(token) {
  const out = app.authdCliInput(`${token}\n`, 'project', 'twilio-token', 'e2e');
  assert.match(out, /Twilio auth token sealed for project e2e/);
}

// Queues an SMS carrying a fresh code, as enqueue_sms does; its outbox id.
function queueSms(to) {
  const code = String(randomInt(100000, 1000000));
  codes.push(code);
  const id = sql(`INSERT INTO auth.outbox (project_ref, channel, recipient, body, expires_at) VALUES
    ('e2e', 'sms', '${to}', 'Your End to end code is ${code}', now() + interval '10 minutes') RETURNING id`);
  return { id, code };
}

function row(id) {
  const [sent, attempts, lastError, body, next] = sql(
    `SELECT sent_at IS NOT NULL, attempts, coalesce(last_error, ''), body, next_attempt_at::text
     FROM auth.outbox WHERE id = ${id}`).split('|');
  return { sent: sent === 't', attempts: Number(attempts), lastError, body, next };
}

async function until(what, check, timeoutMs = 15000) {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    const v = check();
    if (v) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('without Twilio an SMS stays queued with the reason; once configured it goes out', async () => {
  const to = phone();
  const { id, code } = queueSms(to);
  const queued = await until('the reason', () => row(id).lastError && row(id));
  assert.match(queued.lastError, /no Twilio account configured for this project/);
  assert.equal(queued.sent, false);
  assert.match(app.authdCli('outbox', 'list'), new RegExp(`\\bsms\\s+\\${to}\\b.*no Twilio account`));
  configureTwilio();
  setToken(twilio.authToken);
  const m = await twilio.waitFor(to, 15000);  // after the first retry's 5 s
  assert.equal(m.code, code);
  await until('sent', () => row(id).sent);
  assert.equal(row(id).body, '', 'the body (it holds the code) is blanked once sent');
});

test('delivered with basic auth and Twilio\'s form fields', async () => {
  const to = phone();
  const { id, code } = queueSms(to);
  const m = await twilio.waitFor(to, 5000);
  assert.equal(m.body, `Your End to end code is ${code}`);
  assert.equal(m.code, code);
  assert.equal(m.from, '+15005550006');
  assert.equal(m.messagingServiceSid, null);
  assert.deepEqual(m.fields, ['To', 'From', 'Body']);
  assert.match(m.contentType, /^application\/x-www-form-urlencoded/);
  assert.equal(twilio.requestsTo(to).length, 1);
  assert.equal(twilio.requestsTo(to)[0].authorized, true);
  const r = await until('sent', () => row(id).sent && row(id));
  assert.equal(r.attempts, 0);
  assert.equal(r.lastError, '');
});

test('a messaging service instead of a number; the sealed token survives the settings change', async () => {
  const service = `MG${randomBytes(16).toString('hex')}`;
  configureTwilio({ from: '', messaging_service_sid: service });
  try {
    const to = phone();
    queueSms(to);
    const m = await twilio.waitFor(to, 5000);
    assert.equal(m.messagingServiceSid, service);
    assert.equal(m.from, null);
    assert.deepEqual(m.fields, ['To', 'MessagingServiceSid', 'Body']);
  } finally {
    configureTwilio();
  }
});

test('a 500 is retried with backoff, then delivered', async () => {
  const to = phone();
  twilio.failNext(1, 500);
  const { id, code } = queueSms(to);
  const deferred = await until('the 500', () => row(id).lastError && row(id), 5000);
  assert.equal(deferred.lastError, 'twilio 20500: Internal Server Error');
  assert.equal(deferred.sent, false);
  const m = await twilio.waitFor(to, 12000);
  assert.equal(m.code, code);
  const [first, second] = twilio.requestsTo(to);
  assert.equal(twilio.requestsTo(to).length, 2);
  assert.ok(second.at - first.at >= 4000, `the first retry waits 5 s (waited ${second.at - first.at} ms)`);
  const r = await until('sent', () => row(id).sent && row(id));
  assert.equal(r.attempts, 1);
  assert.equal(r.lastError, '');
});

test('a 429 is retried after its Retry-After, sooner than the backoff', async () => {
  const to = phone();
  twilio.failNext(1, 429, { retryAfter: 1 });
  const { id } = queueSms(to);
  await twilio.waitFor(to, 8000);
  const [first, second] = twilio.requestsTo(to);
  assert.equal(first.status, 429);
  assert.ok(second.at - first.at < 3500, `Retry-After: 1 honoured (waited ${second.at - first.at} ms)`);
  await until('sent', () => row(id).sent);
});

test('a 400 (21211) is not retried: failed, its reason in authd outbox list', async () => {
  const to = phone();
  twilio.failNext(1, 400);
  const { id } = queueSms(to);
  const r = await until('the refusal', () => row(id).lastError && row(id), 5000);
  assert.equal(r.lastError, `not retried: twilio 21211: The 'To' number ${to} is not a valid phone number.`);
  assert.equal(r.next, 'infinity');
  assert.equal(r.body, '', 'a failed SMS keeps no code');
  const line = app.authdCli('outbox', 'list').split('\n').find((l) => l.includes(to));
  assert.match(line, /\bsms\b.*attempts=1\s+failed\s+not retried: twilio 21211: /);
  await sleep(2500);
  assert.equal(twilio.requestsTo(to).length, 1, 'never sent again');
  assert.equal(row(id).sent, false);
});

test('a wrong token (401) keeps SMS queued until the token is fixed', async () => {
  setToken('0'.repeat(32));
  const to = phone();
  const { id } = queueSms(to);
  try {
    const r = await until('the 401', () => row(id).lastError && row(id), 5000);
    assert.equal(r.lastError, 'twilio 20003: Authenticate');
    assert.notEqual(r.next, 'infinity');
  } finally {
    setToken(twilio.authToken);
  }
  await twilio.waitFor(to, 12000);
  await until('sent', () => row(id).sent);
});

test('a server that never answers holds later SMS no longer than the timeout', async () => {
  const slow = phone();
  const later = phone();
  twilio.failNext(1, 'hang');
  const { id } = queueSms(slow);
  await until('the hanging request', () => twilio.requestsTo(slow).length === 1, 5000);
  const hungAt = twilio.requestsTo(slow)[0].at;
  queueSms(later);
  await twilio.waitFor(later, 15000);
  const waited = Date.now() - hungAt;
  assert.ok(waited < 13000, `the later SMS waited ${waited} ms (timeout 10 s)`);
  assert.match(row(id).lastError, /^twilio: .*(timed out|Timeout)/i);
  await twilio.waitFor(slow, 12000);  // retried 5 s after its timeout
  const retriedAfter = twilio.requestsTo(slow)[1].at - hungAt;
  assert.ok(retriedAfter >= 14000, `the backoff counts from the timeout, not the batch start (${retriedAfter} ms)`);
  await until('sent', () => row(id).sent);
});

test('neither the token nor a code reaches authd\'s log', async () => {
  const log = readFileSync(app.authdLog, 'utf8');
  assert.match(log, /event=authd\.outbox_sent .*channel=sms/);
  assert.equal(log.includes(twilio.authToken), false, 'the auth token is in the log');
  for (const code of codes) assert.equal(log.includes(code), false, `code ${code} is in the log`);
});
