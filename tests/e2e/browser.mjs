// A real browser for the passkey tests: Debian's chromium (headless, as
// root) driven by playwright-core over CDP, with the CDP WebAuthn domain's
// virtual authenticators standing in for a platform authenticator. No
// browser download: the executable is /usr/bin/chromium (or
// ORBITNEST_CHROMIUM). See tests/README.md.
//   startBrowser({ trustCert })  trustCert: a PEM certificate the browser
//                                accepts for HTTPS (authd's self-signed one)
//   browser.origin               http://localhost:<port>, the page's origin
//   browser.device(options)      a new tab with its own virtual authenticator
// The page also loads the unmodified auth-js (node_modules'
// @supabase/auth-js, its ESM build dist/module) from this server's
// /auth-js/ path, so that auth-js's own passkey and WebAuthn MFA methods run
// in the browser (window.e2e.authjs, Device.authClient / authjs / inPage).
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { chromium } from 'playwright-core';

// auth-js's ESM build as installed (the version package-lock.json pins),
// and tslib, the one bare import in it (mapped by the page's import map).
const require = createRequire(import.meta.url);
const authJsRoot = join(dirname(require.resolve('@supabase/auth-js/package.json')), 'dist', 'module');
const tslibFile = createRequire(join(authJsRoot, 'index.js')).resolve('tslib').replace(/tslib\.js$/, 'tslib.es6.mjs');

// /auth-js/<path>: <path>, <path>.js or <path>/index.js under dist/module
// (its imports are relative and extensionless: './lib/constants'); a folder
// is answered by a redirect to its index.js, so that the relative imports in
// it resolve against the folder. Nothing outside dist/module is served.
function authJsFile(urlPath) {
  let rel;
  try { rel = decodeURIComponent(urlPath.slice('/auth-js/'.length)); } catch { return null; }
  if (!rel || rel.includes('\0') || rel.split(/[\\/]/).some((part) => part === '..')) return null;
  const isFile = (f) => { try { return statSync(f).isFile(); } catch { return false; } };
  for (const [candidate, redirect] of [[rel, false], [`${rel}.js`, false], [`${rel.replace(/\/$/, '')}/index.js`, true]]) {
    const file = resolve(authJsRoot, candidate);
    if (!file.startsWith(authJsRoot + sep)) return null;
    if (isFile(file)) return redirect ? { redirect: `/auth-js/${candidate}` } : { file };
  }
  return null;
}

// The test page: everything a web app does for a passkey, nothing else.
// The options JSON goes through PublicKeyCredential.parse*OptionsFromJSON
// and the credential comes back as credential.toJSON(), unchanged. The
// ceremony timeout is capped so that a case the authenticator cannot
// answer fails in seconds, not in the server's minutes (the timeout is
// not part of anything signed).
//
// window.e2e.authjs: auth-js in the page. client(name, settings) makes a
// GoTrueClient (imported from /auth-js/index.js) with its own storage key
// and the experimental passkey methods on; call(name, 'mfa.webauthn.register',
// ...args) runs one of its methods and answers plain JSON: {data, error}
// with the error as {name, message, status, code} (a PublicKeyCredential in
// data becomes its toJSON()). A ceremony auth-js starts without a signal of
// its own is cancelled after 15 s through auth-js's own abort service, so a
// ceremony the authenticator cannot answer fails in seconds, not minutes.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>OrbitNest passkeys e2e</title>
<script type="importmap">{ "imports": { "tslib": "/tslib.mjs" } }</script>
</head><body>
<script>
const failure = (e) => ({ error: { name: e && e.name, message: String(e && e.message) } });
const capped = (o) => ({ ...o, timeout: Math.min(o.timeout || 10000, 10000) });
window.e2e = {
  async create(options) {
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(capped(options));
      const c = await navigator.credentials.create({ publicKey });
      return { credential: c.toJSON() };
    } catch (e) { return failure(e); }
  },
  async get(options) {
    try {
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(capped(options));
      const c = await navigator.credentials.get({ publicKey });
      return { credential: c.toJSON() };
    } catch (e) { return failure(e); }
  },
  // fetch from the page (so with this page's Origin, through CORS).
  async call(url, { method = 'POST', headers = {}, body } = {}) {
    try {
      const r = await fetch(url, {
        method,
        headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      let json = null;
      try { json = text ? JSON.parse(text) : null; } catch { json = { unparsed: text }; }
      return { status: r.status, body: json };
    } catch (e) { return failure(e); }
  },
  authjs: {
    clients: new Map(),
    async client(name, { url, apikey, storageKey, ...more }) {
      try {
        const { GoTrueClient } = await import('/auth-js/index.js');
        const client = new GoTrueClient({
          url, headers: { apikey }, storageKey: storageKey ?? \`e2e-authjs-\${name}-\${Date.now()}\`,
          autoRefreshToken: false, persistSession: true, detectSessionInUrl: false,
          experimental: { passkey: true }, ...more,
        });
        this.clients.set(name, client);
        return { storageKey: client.storageKey };
      } catch (e) { return failure(e); }
    },
    get(name) {
      const client = this.clients.get(name);
      if (!client) throw new Error(\`no auth-js client \${name} in this page\`);
      return client;
    },
    errorOf(e) {
      if (!e) return null;
      return { name: e.name, message: String(e.message), status: e.status, code: e.code,
        ...(e.cause ? { cause: String(e.cause.message ?? e.cause) } : {}) };
    },
    plain(r) {
      const json = (v) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));
      if (r && typeof r === 'object' && ('data' in r || 'error' in r)) {
        return { ...json({ ...r, data: undefined, error: undefined }), data: json(r.data), error: this.errorOf(r.error) };
      }
      return { data: json(r), error: null };
    },
    async call(name, method, ...args) {
      const path = method.split('.');
      let owner;
      let fn;
      try {
        owner = path.slice(0, -1).reduce((o, k) => o[k], this.get(name));
        fn = owner[path.at(-1)];
        if (typeof fn !== 'function') throw new Error(\`auth-js has no method \${method}\`);
      } catch (e) { return { data: null, error: this.errorOf(e), thrown: true }; }
      // The module auth-js itself imports (same URL: same abort service).
      const { webAuthnAbortService } = await import('/auth-js/lib/webauthn');
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; webAuthnAbortService.cancelCeremony(); }, 15000);
      try {
        const r = this.plain(await fn.apply(owner, args));
        return timedOut ? { ...r, timedOut } : r;
      } catch (e) {
        return { data: null, error: this.errorOf(e), thrown: true, ...(timedOut ? { timedOut } : {}) };
      } finally { clearTimeout(timer); }
    },
  },
};
</script></body></html>`;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Nothing but localhost resolves: chromium phones home despite the flags above.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'];

const spkiHash = (pem) => createHash('sha256')
  .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

// One internal virtual authenticator in a tab of its own (chromium allows
// one internal authenticator per tab, and its credentials live there).
class Device {
  constructor(page, cdp, authenticatorId) {
    this.page = page;
    this.cdp = cdp;
    this.authenticatorId = authenticatorId;
  }
  // A ceremony needs the focus ("the page does not have focus" otherwise):
  // the tab comes to the front first, as a user's would.
  async create(options) {
    await this.page.bringToFront();
    return this.page.evaluate((o) => window.e2e.create(o), options);
  }
  async get(options) {
    await this.page.bringToFront();
    return this.page.evaluate((o) => window.e2e.get(o), options);
  }
  call(url, init) { return this.page.evaluate(([u, i]) => window.e2e.call(u, i), [url, init]); }
  // auth-js in this tab: a client named `name` (settings: url, apikey, and
  // more GoTrueClient options), then its methods by path, with plain JSON
  // args ('passkey.list', 'mfa.webauthn.authenticate', ...).
  authClient(name, settings) {
    return this.page.evaluate(([n, s]) => window.e2e.authjs.client(n, s), [name, settings]);
  }
  async authjs(name, method, ...args) {
    await this.page.bringToFront();
    return this.page.evaluate(([n, m, a]) => window.e2e.authjs.call(n, m, ...a), [name, method, args]);
  }
  // A function run in the page (after bringing the tab to the front), for
  // sequences that keep browser objects between auth-js calls.
  async inPage(fn, arg) {
    await this.page.bringToFront();
    return this.page.evaluate(fn, arg);
  }
  // CDP's response overrides, applied before signing: isBogusSignature,
  // isBadUV, isBadUP (all false restores honest responses).
  async override(bits) {
    await this.cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId: this.authenticatorId,
      isBogusSignature: false, isBadUV: false, isBadUP: false, ...bits });
  }
  async credentials() {
    return (await this.cdp.send('WebAuthn.getCredentials', { authenticatorId: this.authenticatorId })).credentials;
  }
  async close() {
    try { await this.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: this.authenticatorId }); } catch { /* closing anyway */ }
    await this.page.close();
  }
}

export async function startBrowser({ trustCert } = {}) {
  const executablePath = process.env.ORBITNEST_CHROMIUM ?? '/usr/bin/chromium';
  // chromium writes $HOME/.config, $HOME/.cache and $TMPDIR/org.chromium.*
  // whatever its profile folder: all of it goes here and is removed.
  const dir = mkdtempSync('/tmp/orbitnest-chromium-');
  for (const d of ['home/.config', 'home/.cache', 'tmp']) mkdirSync(join(dir, d), { recursive: true });
  const env = { ...process.env, HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'home/.config'),
    XDG_CACHE_HOME: join(dir, 'home/.cache'), TMPDIR: join(dir, 'tmp') };
  const args = [...ARGS];
  // The appliance's certificate is trusted by its key, and only it.
  if (trustCert) args.push(`--ignore-certificate-errors-spki-list=${spkiHash(trustCert)}`);

  const server = createServer((req, res) => {
    const path = req.url.split(/[?#]/)[0];
    const found = req.method !== 'GET' ? null
      : path === '/tslib.mjs' ? { file: tslibFile } : path.startsWith('/auth-js/') ? authJsFile(path) : null;
    const file = found?.file;
    if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(PAGE);
    } else if (file) {
      res.writeHead(200, { 'Content-Type': file.endsWith('.map') ? 'application/json' : 'text/javascript; charset=utf-8',
        'Cache-Control': 'no-store' });
      res.end(readFileSync(file));
    } else if (found?.redirect) {
      res.writeHead(302, { Location: encodeURI(found.redirect), 'Cache-Control': 'no-store' }).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://localhost:${server.address().port}`;

  let browser;
  try {
    browser = await chromium.launch({ executablePath, headless: true, args, env, timeout: 30000 });
  } catch (e) {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const context = await browser.newContext();
  const devices = new Set();
  return {
    origin,
    version: browser.version(),
    // A tab on the test page with a fresh virtual authenticator: ctap2 over
    // the internal transport, resident keys and user verification (a
    // platform passkey). `options` are more addVirtualAuthenticator options
    // (defaultBackupEligibility, defaultBackupState, ...).
    async device(options = {}) {
      const page = await context.newPage();
      await page.goto(`${origin}/`);
      const cdp = await context.newCDPSession(page);
      // Always enable before any navigator.credentials call: without it a
      // headless tab's ceremony never settles.
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
          isUserVerified: true, automaticPresenceSimulation: true, ...options },
      });
      const d = new Device(page, cdp, authenticatorId);
      devices.add(d);
      const close = d.close.bind(d);
      d.close = async () => { devices.delete(d); await close(); };
      return d;
    },
    async close() {
      for (const d of [...devices]) await d.close().catch(() => {});
      await browser.close().catch(() => {});
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
