// Mail delivery over TLS with authentication, against real SMTP servers
// (smtp-server) holding the test certificate: SMTPS, STARTTLS, and the
// failures that must keep mail in the outbox (no STARTTLS offered, wrong
// password, a certificate the relay's CA setting does not vouch for).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { MailSink, address, recordSecret, startAppliance } from './appliance.mjs';

let app;
const tls = {
  key: readFileSync(process.env.ORBITNEST_E2E_TLS_KEY),
  cert: readFileSync(process.env.ORBITNEST_E2E_TLS_CERT),
};
const caFile = process.env.ORBITNEST_E2E_TLS_CERT;
const sinks = [];
before(async () => { app = await startAppliance('mail'); });
after(async () => {
  for (const s of sinks) s.close();
  await app?.stop();
});

async function sink(options) {
  const s = new MailSink(options);
  await s.listen();
  sinks.push(s);
  return s;
}

const sql = (query) => app.sql(query);

function relay(smtp, password) {
  app.authdCli('project', 'settings', 'e2e', `smtp=${JSON.stringify(smtp)}`);
  if (password !== undefined) {
    execFileSync(app.authdBin, ['--config', app.authdConfig, 'project', 'smtp-password', 'e2e'],
      { input: `${password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
  }
}

async function askForCode(email) {
  const { error } = await app.authClient().signInWithOtp({ email });
  assert.equal(error, null, error?.message);
}

async function outboxError(email, timeoutMs = 8000) {
  for (let waited = 0; waited < timeoutMs; waited += 200) {
    const e = sql(`SELECT coalesce(last_error, '') FROM auth.outbox WHERE recipient = '${email}' AND sent_at IS NULL`);
    if (e) return e;
    await new Promise((r) => setTimeout(r, 200));
  }
  return '';
}

const secret = () => { const p = randomBytes(12).toString('hex'); recordSecret(p); return p; };

test('SMTPS with AUTH: the code arrives encrypted, authenticated with the sealed password', async () => {
  const pass = secret();
  const s = await sink({ tls, mode: 'smtps', auth: { user: 'auth-relay', pass } });
  relay({ url: `smtps://localhost:${s.port}`, username: 'auth-relay', ca_file: caFile }, pass);
  const settings = app.authdCli('project', 'settings', 'e2e');
  assert.ok(!settings.includes(pass), 'the password is stored sealed only');
  assert.match(JSON.parse(settings).smtp.password_sealed, /^[A-Za-z0-9_-]{40,}$/);
  const email = address('smtps');
  await askForCode(email);
  assert.match(await s.codeFor(email), /^\d{4}$/);
  assert.deepEqual(s.deliveries.at(-1), { to: email, secure: true, user: 'auth-relay' });
});

test('STARTTLS with AUTH: the connection is upgraded before AUTH and the mail', async () => {
  const pass = secret();
  const s = await sink({ tls, mode: 'starttls', auth: { user: 'starttls-relay', pass } });
  relay({ url: `smtp://localhost:${s.port}`, starttls: true, username: 'starttls-relay', ca_file: caFile }, pass);
  const email = address('starttls');
  await askForCode(email);
  assert.match(await s.codeFor(email), /^\d{4}$/);
  assert.deepEqual(s.deliveries.at(-1), { to: email, secure: true, user: 'starttls-relay' });
});

test('no STARTTLS offered, a wrong password, an unknown CA: the mail stays in the outbox with the reason', async () => {
  const plain = await sink({});
  relay({ url: `smtp://localhost:${plain.port}`, starttls: true });
  const e1 = address('downgrade');
  await askForCode(e1);
  assert.match(await outboxError(e1), /STARTTLS|SSL|TLS/i);
  assert.ok(await plain.silentFor(e1, 500), 'nothing was sent in the clear');

  const pass = secret();
  const guarded = await sink({ tls, mode: 'smtps', auth: { user: 'relay', pass } });
  relay({ url: `smtps://localhost:${guarded.port}`, username: 'relay', ca_file: caFile }, `${pass}-wrong`);
  const e2 = address('wrongpass');
  await askForCode(e2);
  assert.match(await outboxError(e2), /auth|login|password|denied/i);

  relay({ url: `smtps://localhost:${guarded.port}`, username: 'relay', ca_file: '' }, pass);
  const e3 = address('unknownca');
  await askForCode(e3);
  assert.match(await outboxError(e3), /certificate|SSL/i);
  assert.equal(guarded.deliveries.length, 0);
  assert.ok(guarded.errors.some((e) => /unknown.ca/i.test(`${e.code} ${e.message}`)), 'authd refused the certificate');
  assert.match(app.authdCli('outbox', 'list'), new RegExp(e3.replace('.', '\\.')));
});
