// Starts a whole appliance for the end-to-end tests: a SoftHSM2 token and a
// Postgres database of its own, the real keyd and authd from the build
// tree, a project created with the real `authd project create`, and an SMTP
// sink (smtp-server, the real protocol) that catches the codes authd mails.
//   ORBITNEST_BUILD         build folder (default ../../build)
//   ORBITNEST_TEST_PGHOST   Postgres socket folder (tests/run-all.sh sets it)
//   ORBITNEST_E2E_TLS_CERT / _KEY   the certificate Node trusts
//                           (NODE_EXTRA_CA_CERTS, set by tests/run-all.sh)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthClient } from '@supabase/supabase-js';
import { SMTPServer } from 'smtp-server';

const here = dirname(fileURLToPath(import.meta.url));
const build = process.env.ORBITNEST_BUILD ?? join(here, '..', '..', 'build');
const logDir = process.env.ORBITNEST_TEST_LOGDIR ?? '/tmp/orbitnest-test-logs';

export function recordSecret(secret) {
  mkdirSync(logDir, { recursive: true });
  appendFileSync(join(logDir, 'secrets.list'), `${secret}\n`);
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A real SMTP server catching the appliance's mail. Options: `tls`
// ({key, cert}) with `mode` 'smtps' (TLS from the first byte) or 'starttls'
// (offered, upgraded by the client); `auth` ({user, pass}) makes AUTH
// mandatory. Every delivery is recorded with whether it was encrypted and
// who authenticated.
export class MailSink {
  constructor({ tls, mode, auth } = {}) {
    this.deliveries = [];
    this.unread = new Map();   // address -> [mail text, ...] not yet taken
    this.waiters = new Map();  // address -> [resolve, ...]
    this.server = new SMTPServer({
      authOptional: !auth,
      disabledCommands: mode === 'starttls' ? [] : ['STARTTLS'],
      secure: mode === 'smtps',
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      allowInsecureAuth: false,
      logger: false,
      onAuth: (a, session, callback) => {
        if (auth && a.username === auth.user && a.password === auth.pass) return callback(null, { user: a.username });
        return callback(new Error('Invalid username or password'));
      },
      onData: (stream, session, callback) => {
        let raw = '';
        stream.on('data', (d) => { raw += d.toString('utf8'); });
        stream.on('end', () => {
          for (const r of session.envelope.rcptTo) {
            const to = r.address.toLowerCase();
            this.deliveries.push({ to, secure: session.secure, user: session.user ?? null });
            const waiting = this.waiters.get(to);
            if (waiting?.length) waiting.shift()(raw);
            else this.unread.set(to, [...(this.unread.get(to) ?? []), raw]);
          }
          callback();
        });
      },
    });
  }
  async listen() {
    // TLS handshakes a test makes fail on purpose land here, not as crashes.
    this.errors = [];
    this.server.on('error', (e) => this.errors.push(e));
    this.port = await freePort();
    await new Promise((r) => this.server.listen(this.port, '127.0.0.1', r));
  }
  // The oldest mail to `address` not taken yet (waiting for it if needed).
  async take(address, timeoutMs = 15000) {
    const to = address.toLowerCase();
    const queued = this.unread.get(to);
    if (queued?.length) return queued.shift();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail to ${address} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.set(to, [...(this.waiters.get(to) ?? []), (raw) => { clearTimeout(timer); resolve(raw); }]);
    });
  }
  // The link a code mail carries (the line after "Or open this link").
  async linkFor(address, timeoutMs) {
    const raw = await this.take(address, timeoutMs);
    const link = /Or open this link[^\n]*:\r?\n(\S+)\r?\n/.exec(raw);
    if (!link) throw new Error(`mail without a link: ${raw}`);
    return new URL(link[1]);
  }
  async codeFor(address, timeoutMs) {
    const raw = await this.take(address, timeoutMs);
    const code = /Your code is (\d+)\./.exec(raw);
    if (!code) throw new Error(`mail without a code: ${raw}`);
    return code[1];
  }
  // True when no mail to `address` arrives within `ms`.
  async silentFor(address, ms) {
    try { await this.take(address, ms); return false; } catch { return true; }
  }
  close() { this.server.close(); }
}

// `settings`: more `authd project settings` arguments (KEY=JSON) for the
// project, set before authd starts. `adminYaml`: more lines of authd.yaml's
// `admin:` section (indented by two spaces).
export async function startAppliance(name, { settings = [], adminYaml = '' } = {}) {
  const dir = mkdtempSync('/tmp/orbitnest-e2e-');
  chmodSync(dir, 0o755);
  const port = await freePort();
  const pin = randomBytes(12).toString('hex');
  const soPin = randomBytes(12).toString('hex');
  recordSecret(pin);
  recordSecret(soPin);
  mkdirSync(join(dir, 'tokens'));
  const hsmConf = join(dir, 'softhsm2.conf');
  writeFileSync(hsmConf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'e2e', '--pin', pin, '--so-pin', soPin],
    { env: { ...process.env, SOFTHSM2_CONF: hsmConf }, stdio: 'ignore' });
  writeFileSync(join(dir, 'pin'), `${pin}\n`, { mode: 0o600 });
  const pgHost = process.env.ORBITNEST_TEST_PGHOST;
  if (!pgHost) throw new Error('ORBITNEST_TEST_PGHOST is not set: run through tests/run-all.sh');
  const db = `e2e_${randomBytes(6).toString('hex')}`;
  execFileSync('psql', ['-h', pgHost, '-d', 'postgres', '-qc', `CREATE DATABASE ${db}`]);
  copyFileSync(process.env.ORBITNEST_E2E_TLS_CERT, join(dir, 'tls.crt'));
  copyFileSync(process.env.ORBITNEST_E2E_TLS_KEY, join(dir, 'tls.key'));
  chmodSync(join(dir, 'tls.key'), 0o600);
  const user = execFileSync('id', ['-un']).toString().trim();
  writeFileSync(join(dir, 'keyd.yaml'), `socket:
  path: ${dir}/keyd.sock
hsm:
  module: /usr/lib/softhsm/libsofthsm2.so
  token_label: e2e
  pin_file: ${dir}/pin
state:
  directory: ${dir}/keyd-state
audit:
  file: ${dir}/audit.log
keyrings:
  admin:
    issuer: https://localhost:${port}/admin
  project:
    issuer_prefix: https://localhost:${port}/projects/
clients:
  authd_user: ${user}
`);
  const adminPort = await freePort();
  writeFileSync(join(dir, 'authd.yaml'), `listen:
  port: ${port}
admin:
  listen:
    port: ${adminPort}
  issuer: https://localhost:${port}/admin
${adminYaml}tls:
  cert_file: ${dir}/tls.crt
  key_file: ${dir}/tls.key
keyd:
  socket_path: ${dir}/keyd.sock
database:
  conninfo: host=${pgHost} dbname=${db}
passwords:
  max_concurrent_hashes: 2
`);
  const log = (what) => openSync(join(logDir, `e2e.${name}.${what}.log`), 'w');
  const keyd = spawn(join(build, 'keyd/keyd'), ['--config', join(dir, 'keyd.yaml')],
    { env: { ...process.env, SOFTHSM2_CONF: hsmConf }, stdio: ['ignore', log('keyd'), log('keyd')] });
  const authdCli = (...args) => execFileSync(join(build, 'authd/authd'), ['--config', join(dir, 'authd.yaml'), ...args],
    { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  let created = '';
  for (let i = 0; i < 100 && !created; i++) {
    try { created = authdCli('project', 'create', 'e2e', '--name', 'End to end'); } catch { await sleep(100); }
  }
  if (!created) throw new Error('authd project create failed');
  const publishableKey = /publishable key:\s+(\S+)/.exec(created)[1];
  const secretKey = /secret key:\s+(\S+)/.exec(created)[1];
  recordSecret(secretKey);
  const mail = new MailSink();
  await mail.listen();
  try {
    authdCli('project', 'settings', 'e2e', `smtp={"url":"smtp://127.0.0.1:${mail.port}","starttls":false}`,
      'access_token_ttl_seconds=60', ...settings);
  } catch (e) {
    // A setting this authd refuses: fail, leaving nothing running (keyd and
    // the mail sink would keep the test process alive).
    mail.close();
    keyd.kill('SIGTERM');
    try { execFileSync('psql', ['-h', pgHost, '-d', 'postgres', '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]); } catch { /* best effort */ }
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const authd = spawn(join(build, 'authd/authd'), ['--config', join(dir, 'authd.yaml')],
    { stdio: ['ignore', log('authd'), log('authd')] });
  const base = `https://localhost:${port}/projects/e2e`;
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${base}/auth/v1/health`);
      if (r.status === 200) break;
    } catch { /* not up yet */ }
    await sleep(50);
  }
  return {
    url: base,
    authUrl: `${base}/auth/v1`,
    adminUrl: `https://localhost:${adminPort}/admin/v1`,
    adminIssuer: `https://localhost:${port}/admin`,
    issuer: `https://localhost:${port}/projects/e2e/auth/v1`,
    publishableKey,
    secretKey,
    mail,
    db,
    pgHost,
    authdCli,
    // The CLI with `input` on its stdin (secrets are never given in argv).
    authdCliInput: (input, ...args) => execFileSync(join(build, 'authd/authd'),
      ['--config', join(dir, 'authd.yaml'), ...args], { input, stdio: ['pipe', 'pipe', 'ignore'] }).toString(),
    authdLog: join(logDir, `e2e.${name}.authd.log`),
    authdBin: join(build, 'authd/authd'),
    authdConfig: join(dir, 'authd.yaml'),
    // SQL as the superuser (stopping at the first error), its result as trimmed text.
    sql(query) {
      return execFileSync('psql', ['-h', pgHost, '-d', db, '-v', 'ON_ERROR_STOP=1', '-qtAc', query]).toString().trim();
    },
    // auth-js exactly as supabase-js configures it (supabase-js itself also
    // starts a realtime client, which needs WebSocket, absent from Node 20).
    authClient({ flowType = 'implicit' } = {}) {
      return new AuthClient({
        url: `${base}/auth/v1`,
        headers: { apikey: publishableKey, Authorization: `Bearer ${publishableKey}` },
        persistSession: false,
        autoRefreshToken: false,
        detectSessionInUrl: false,
        flowType,
      });
    },
    async stop() {
      mail.close();
      authd.kill('SIGTERM');
      keyd.kill('SIGTERM');
      await sleep(200);
      try { execFileSync('psql', ['-h', pgHost, '-d', 'postgres', '-qc', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`]); } catch { /* best effort */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A password for a test user, recorded so that the log scan looks for it.
export function newPassword() {
  const p = `Pw-${Math.random().toString(36).slice(2)}-9x`;
  recordSecret(p);
  return p;
}

// A unique address per test, so tests never share rate-limit counters.
export function address(tag) {
  return `${tag}-${randomBytes(4).toString('hex')}@example.com`;
}
