// A real browser for the passkey tests: Debian's chromium (headless, as
// root) driven by playwright-core over CDP, with the CDP WebAuthn domain's
// virtual authenticators standing in for a platform authenticator. No
// browser download: the executable is /usr/bin/chromium (or
// ORBITNEST_CHROMIUM). See tests/README.md.
//   startBrowser({ trustCert })  trustCert: a PEM certificate the browser
//                                accepts for HTTPS (authd's self-signed one)
//   browser.origin               http://localhost:<port>, the page's origin
//   browser.device(options)      a new tab with its own virtual authenticator
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// The test page: everything a web app does for a passkey, nothing else.
// The options JSON goes through PublicKeyCredential.parse*OptionsFromJSON
// and the credential comes back as credential.toJSON(), unchanged. The
// ceremony timeout is capped so that a case the authenticator cannot
// answer fails in seconds, not in the server's minutes (the timeout is
// not part of anything signed).
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>OrbitNest passkeys e2e</title></head><body>
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
    if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(PAGE);
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
