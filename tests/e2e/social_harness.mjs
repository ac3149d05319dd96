// The harness shared by the e2e tests of social sign-in for admins
// (admin_social.test.mjs, admin_social_attacks.test.mjs,
// admin_github.test.mjs) and by the stand-ins' own tests
// (oidc_provider.test.mjs, github_stand_in.test.mjs): the browser pieces
// (PKCE, a cookie jar, fetch without following redirects), the appliance's
// set-up (admin.oauth in authd.yaml, the client secret files, admins made by
// the CLI) and the admin listener's side of a sign-in.
//
// The callback URL. authd.yaml must name it (admin.oauth.callback_url) and the
// provider must have it registered before either starts, but startAppliance
// picks the admin port only while it starts authd. So the callback URL is a
// public name, CALLBACK below, as behind a reverse proxy: authd sends it to
// the provider as redirect_uri (registered there, checked by the provider at
// /auth and at the token endpoint), the provider redirects the browser to it,
// and the test's browser delivers that request to the admin listener
// (`${app.adminUrl}/callback` with the same query) as the proxy would.
// authd never compares the Host of the callback with callback_url.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newPassword, startAppliance } from './appliance.mjs';

// The public callback URL (admin.oauth.callback_url, registered at the provider).
export const CALLBACK = 'https://admin.orbitnest.test/admin/v1/callback';
// The app's page authd sends the browser back to (admin.oauth.redirect_urls).
export const REDIRECT = 'https://studio.example/after';

// ---------------------------------------------------------------- browser

export const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

// A fresh PKCE pair: a random verifier and its S256 challenge.
export const pkce = () => {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
};

// Cookies as a browser keeps them for one host: (name, path) -> value;
// a Set-Cookie with an empty value, an Expires in the past or a Max-Age <= 0
// removes one. header(url): the Cookie header for a URL of that host.
export class CookieJar {
  cookies = new Map();

  store(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) expired = true;
        if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      }
      const key = `${name};${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter(({ path }) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`))
      .map(({ name, value }) => `${name}=${value}`).join('; ');
  }
}

// GET without following redirects.
export const get = (url, headers = {}) => fetch(url, { redirect: 'manual', headers });

// A response's body as JSON (null when empty, {raw} when not JSON).
export async function json(res) {
  const text = await res.text();
  try { return text ? JSON.parse(text) : null; } catch { return { raw: text }; }
}

// ---------------------------------------------------------------- appliance

// The e2e certificate and key (PEM), for the stand-ins' HTTPS.
export const readTls = () => ({
  tlsCert: readFileSync(process.env.ORBITNEST_E2E_TLS_CERT, 'utf8'),
  tlsKey: readFileSync(process.env.ORBITNEST_E2E_TLS_KEY, 'utf8'),
});

// Writes `secret` to dir/name (mode 0600) for client_secret_file: the path.
export function writeSecretFile(dir, name, secret) {
  const file = join(dir, name);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

// authd.yaml lines of an OpenID Connect provider under admin.oauth.providers.
export const oidcProviderYaml = (name, { issuer, clientId, secretFile }) => [
  `      ${name}:`,
  `        issuer: ${JSON.stringify(issuer)}`,
  `        client_id: ${JSON.stringify(clientId)}`,
  `        client_secret_file: ${JSON.stringify(secretFile)}`,
];

// authd.yaml lines of a provider of kind github whose endpoints are the
// GitHub stand-in's (github_stand_in.mjs).
export const githubProviderYaml = (name, { standIn, clientId, secretFile }) => [
  `      ${name}:`,
  '        kind: github',
  `        client_id: ${JSON.stringify(clientId)}`,
  `        client_secret_file: ${JSON.stringify(secretFile)}`,
  `        authorization_endpoint: ${JSON.stringify(standIn.authorizeUrl)}`,
  `        token_endpoint: ${JSON.stringify(standIn.tokenUrl)}`,
  `        api_base: ${JSON.stringify(standIn.apiBase)}`,
];

// authd.yaml's admin: section (startAppliance's adminYaml) with admin.oauth:
// `settings`, more admin: lines before oauth (indented by two spaces);
// `providers`, the lines of oidcProviderYaml / githubProviderYaml.
export function adminOAuthYaml({ settings = [], providers, callback = CALLBACK, redirect = REDIRECT }) {
  return [
    '  ip_requests_per_hour: 100000',
    ...settings,
    '  oauth:',
    `    callback_url: ${JSON.stringify(callback)}`,
    `    redirect_urls: [${JSON.stringify(redirect)}]`,
    '    signup_domains: ["signup.example"]',
    `    ca_file: ${JSON.stringify(process.env.ORBITNEST_E2E_TLS_CERT)}`,
    '    providers:',
    ...providers,
  ].join('\n') + '\n';
}

// startAppliance with that admin: section. authd exits at start on a
// configuration it refuses: then this throws saying why.
export async function startAdminAppliance(name, adminYaml) {
  const app = await startAppliance(name, { adminYaml });
  const health = await fetch(`${app.adminUrl}/health`).catch(() => null);
  if (!health) {
    let why = '';
    try { execFileSync(app.authdBin, ['--config', app.authdConfig, '--check-config'], { stdio: 'pipe' }); } catch (e) { why = `${e.stderr}${e.stdout}`; }
    throw new Error(`authd is not up (see ${app.authdLog}): ${why}`);
  }
  return app;
}

// An admin made by the CLI with a password (on stdin, as an operator does):
// the password.
export function createAdmin(app, email) {
  const password = `${newPassword()}-long-enough`;
  execFileSync(app.authdBin, ['--config', app.authdConfig, 'admin', 'create', email],
    { input: `${password}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
  return password;
}

// ---------------------------------------------------------------- admin listener

// The admin listener's side of social sign-in for one test file.
// `app` and `standIn` are functions returning the appliance and the provider
// stand-in (made in before(), after this is called); `provider` is the
// provider name of authorize's default and of linkedTo; `callback` and
// `redirect` as in authd.yaml.
export function socialSignInHarness({ app, standIn, provider = 'e2e', callback: callbackUrl = CALLBACK, redirect = REDIRECT }) {
  const passwords = {};  // email -> password of the admins made by createAdmin

  const h = {
    passwords,

    // createAdmin above, the password kept for passwordSignIn.
    createAdmin(email) {
      passwords[email] = createAdmin(app(), email);
      return passwords[email];
    },

    // GET /authorize with the given query (defaults: `provider`, `redirect`,
    // a fresh S256 challenge; a key set to undefined is left out). The
    // cookie that binds the flow to the browser that began it
    // (orbitnest-admin-oauth, Path: the callback's) as a Cookie header value.
    async authorize(query = {}) {
      const { verifier, challenge } = pkce();
      const params = { provider, redirect_to: redirect, code_challenge: challenge, code_challenge_method: 's256', ...query };
      for (const [k, v] of Object.entries(params)) if (v === undefined) delete params[k];
      const res = await get(`${app().adminUrl}/authorize?${new URLSearchParams(params)}`);
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
      return { res, verifier, cookie };
    },

    // The provider's redirect to `callback`, as the URL the browser (through
    // the proxy) requests from the admin listener.
    toListener(location) {
      assert.ok(location.startsWith(`${callbackUrl}?`), `not a redirect to the callback: ${location}`);
      return `${app().adminUrl}/callback${new URL(location).search}`;
    },

    // The stand-in's hops from its authorization URL (its cookies in `jar`)
    // until it sends the browser to `callback`: the URL of that request as
    // delivered to the admin listener.
    async throughProvider(authorizationUrl, jar = new CookieJar()) {
      let url = authorizationUrl;
      for (let hop = 0; hop < 10; hop++) {
        assert.equal(new URL(url).origin, standIn().issuer, `a hop outside the provider: ${url}`);
        const cookie = jar.header(url);
        const res = await get(url, cookie ? { cookie } : {});
        jar.store(res);
        const body = await res.text();
        assert.ok([302, 303].includes(res.status), `${url}: HTTP ${res.status}, not a redirect: ${body}`);
        const next = new URL(res.headers.get('location'), url);
        if (next.href.startsWith(`${callbackUrl}?`)) return `${app().adminUrl}/callback${next.search}`;
        url = next.href;
      }
      throw new Error('more than 10 redirects at the provider');
    },

    // The callback as the browser that began the flow (`cookie`, its Cookie
    // header) or as another browser (no cookie): authd's answer (`answer`,
    // the response), its status, body, and Location parsed.
    async callback(url, cookie = '') {
      const answer = await get(url, cookie ? { cookie } : {});
      const body = await answer.text();
      const loc = answer.headers.get('location');
      const location = loc ? new URL(loc) : null;
      return { status: answer.status, body, location, params: location ? Object.fromEntries(location.searchParams) : {}, answer };
    },

    // POST /token?grant_type=pkce: the sign-in code for a session.
    async exchange(authCode, codeVerifier) {
      const res = await fetch(`${app().adminUrl}/token?grant_type=pkce`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ auth_code: authCode, code_verifier: codeVerifier }),
      });
      return { status: res.status, body: await json(res) };
    },

    // A browser leg that came back to `redirect` with a code: exchanged for
    // a session (the leg with `session`, the token endpoint's answer).
    async finish(leg) {
      assert.equal(`${leg.location.origin}${leg.location.pathname}`, redirect);
      assert.ok(leg.params.code, `no code: ${leg.location.href}`);
      const token = await h.exchange(leg.params.code, leg.verifier);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      return { ...leg, session: token.body };
    },

    // A browser leg that came back to `redirect` with ?error=access_denied
    // and this error_code, no code.
    assertError(leg, errorCode) {
      assert.equal(`${leg.location.origin}${leg.location.pathname}`, redirect, leg.location.href);
      assert.equal(leg.params.code, undefined, `a code was issued: ${leg.location.href}`);
      assert.equal(leg.params.error_code, errorCode, leg.location.href);
      assert.equal(leg.params.error, 'access_denied');
      assert.ok(leg.params.error_description, 'an error_description');
    },

    // GET an admin API path with an access token.
    async adminGet(path, token) {
      const res = await fetch(`${app().adminUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
      return { status: res.status, body: await json(res) };
    },

    // POST /token?grant_type=password with the password createAdmin made.
    async passwordSignIn(email) {
      const res = await fetch(`${app().adminUrl}/token?grant_type=password`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password: passwords[email] }),
      });
      return { status: res.status, body: await json(res) };
    },

    // `authd admin list`: one admin a line, "<id>  <email>  created ...".
    adminList: () => app().authdCli('admin', 'list').split('\n').filter(Boolean)
      .map((line) => { const [id, email] = line.split(/\s+/); return { id, email }; }),
    adminIdOf: (email) => h.adminList().find((a) => a.email === email)?.id,
    // The admin `provider`'s subject `sub` is linked to ('' if none).
    linkedTo: (sub) => app().sql(
      `SELECT user_id FROM auth.admin_identities WHERE provider = '${provider}' AND provider_id = '${sub}'`),
    sessionCount: () => Number(app().sql('SELECT count(*) FROM auth.admin_sessions')),
  };
  return h;
}
