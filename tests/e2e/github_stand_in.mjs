// A local stand-in for GitHub sign-in (OAuth 2 without OpenID Connect) for
// the e2e tests of social login, over HTTPS with the e2e certificate. It
// speaks GitHub's own shapes: the web application flow of "Authorizing
// OAuth apps" (github.com/login/oauth/...) and the two REST calls a sign-in
// needs, "Get the authenticated user" and "List email addresses for the
// authenticated user" (api.github.com/user, /user/emails).
//
//   const gh = await startGitHubStandIn({ tlsCert, tlsKey, clients, accounts });
//   // tlsCert/tlsKey: PEM strings (ORBITNEST_E2E_TLS_CERT/_KEY, read)
//   // clients:  [{ client_id, client_secret, callback_url }]   (an OAuth app's settings)
//   // accounts: [{ login, id /* number */, name, email /* public, or null */,
//   //              emails: [{ email, primary, verified, visibility? }] }]
//   //           held by reference: a test may change them between sign-ins
//   gh.base            'https://127.0.0.1:<port>'
//   gh.authorizeUrl    base + '/login/oauth/authorize'     (github.com's)
//   gh.tokenUrl        base + '/login/oauth/access_token'  (github.com's)
//   gh.apiBase         base + '/api'                       (api.github.com: /api/user, /api/user/emails)
//   gh.setNextLogin(login)  the account the next authorization request signs in as (once); null: none
//   gh.expireCodes()   every code not yet redeemed is past its 10 minutes
//   gh.requests        every request: { method, path, query, headers, form } (form: the parsed
//                      body of a POST, client_secret included: keep it in memory only)
//   await gh.stop()
//
// The web flow, as github.com does it:
// GET /login/oauth/authorize?client_id&redirect_uri&scope&state
//     [&code_challenge&code_challenge_method=S256][&login&allow_signup&prompt]
//   No pages: the user is taken to have approved the app already, so GitHub
//   redirects at once, signed in as the account given to setNextLogin:
//   302 redirect_uri?code=<20 hex>&state=<state>. With no login set, the
//   user "cancelled": 302 redirect_uri?error=access_denied&error_description=
//   The+user+has+denied+your+application+access.&error_uri=...&state=<state>.
//   redirect_uri is optional (the app's callback URL then). One given must
//   have the callback URL's scheme, host (or a subdomain of it) and port and
//   a path at or under the callback URL's path (GitHub's rule: "the redirect
//   URL's path must reference a subdirectory of the callback URL").
//   An unknown client_id or a redirect_uri that does not fit: a 400 text
//   page, no redirect (github.com shows a page: "The redirect_uri is not
//   associated with this application" — no redirect to a URL it cannot
//   trust). A code_challenge_method other than S256 (GitHub's PKCE is S256
//   only) goes back as error=invalid_request.
// POST /login/oauth/access_token  client_id, client_secret, code,
//     redirect_uri, code_verifier (a form, a JSON body or the query; the
//     client's credentials may come by HTTP Basic instead)
//   Accept: application/json -> {"access_token":"gho_...","token_type":"bearer","scope":"read:user,user:email"}
//   otherwise GitHub's default, a form: access_token=gho_...&scope=read%3Auser%2Cuser%3Aemail&token_type=bearer
//   Errors are HTTP 200 too, {error, error_description, error_uri} (or the
//   same as a form): incorrect_client_credentials (unknown client or wrong
//   secret: the code is left alone), redirect_uri_mismatch (a redirect_uri
//   other than the authorization request's), bad_verification_code (a code
//   unknown, used, expired after 10 minutes, of another client, or whose
//   code_verifier does not match its S256 challenge or is missing). A code
//   is spent by the first exchange its client authenticates for, good or
//   not.
//   The scope granted is the scope asked for (space or comma separated),
//   joined with commas as GitHub answers it.
// GET /api/user, GET /api/user/emails   Authorization: Bearer <token> or token <token>
//   No User-Agent: 403 with api.github.com's text ("Request forbidden by
//   administrative rules. Please make sure your request has a User-Agent
//   header ..."; api.github.com answers that one as text, not JSON).
//   A missing or unknown token: 401 {"message":"Bad credentials","documentation_url":...,"status":"401"}.
//   /user: the REST shape (login, id as a number, node_id, avatar_url, ...,
//   name, email: the public address or null). /user/emails: [{email,
//   primary, verified, visibility}] (visibility "public"/"private" for the
//   primary address, null for the others), only for a token with the
//   user:email (or user) scope: without it GitHub answers 404 Not Found.
//   Responses carry X-OAuth-Scopes and X-GitHub-Media-Type like GitHub's.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';

const CODE_TTL_MS = 10 * 60 * 1000;
const DOCS = 'https://docs.github.com';
const AUTH_ERRORS = `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors`;
const TOKEN_ERRORS = `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors`;
const TOKEN_ERROR = {
  incorrect_client_credentials: ['The client_id and/or client_secret passed are incorrect.', `${TOKEN_ERRORS}/#incorrect-client-credentials`],
  redirect_uri_mismatch: ['The redirect_uri MUST match the registered callback URL for this application.', `${TOKEN_ERRORS}/#redirect-uri-mismatch2`],
  bad_verification_code: ['The code passed is incorrect or expired.', `${TOKEN_ERRORS}/#bad-verification-code`],
};
const NO_USER_AGENT = 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header '
  + `(${DOCS}/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n`;

// GitHub's rule for a redirect_uri against the app's callback URL.
function redirectFits(redirectUri, callbackUrl) {
  let r;
  let c;
  try { r = new URL(redirectUri); c = new URL(callbackUrl); } catch { return false; }
  if (r.protocol !== c.protocol || r.port !== c.port) return false;
  if (r.username || r.password || r.hash) return false;
  if (r.hostname !== c.hostname && !r.hostname.endsWith(`.${c.hostname}`)) return false;
  const base = c.pathname.endsWith('/') ? c.pathname : `${c.pathname}/`;
  return r.pathname === c.pathname || r.pathname.startsWith(base);
}

function withQuery(url, params) {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.append(k, v);
  return u.href;
}

const readBody = (req) => new Promise((resolve, reject) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > 1 << 20) { reject(new Error('body too large')); req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  req.on('error', reject);
});

// The form of a POST (application/x-www-form-urlencoded or JSON).
function parseBody(req, text) {
  if (!text) return {};
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/json')) {
    try {
      const value = JSON.parse(text);
      return value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)])) : {};
    } catch { return {}; }
  }
  return Object.fromEntries(new URLSearchParams(text));
}

// HTTP Basic client credentials (RFC 6749 2.3.1: each form-encoded first).
function basicCredentials(header) {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const unform = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
  return { client_id: unform(decoded.slice(0, colon)), client_secret: unform(decoded.slice(colon + 1)) };
}

const scopesOf = (scope) => (scope ?? '').split(/[\s,]+/).filter(Boolean);

function userJson(a) {
  const api = 'https://api.github.com';
  return {
    login: a.login,
    id: a.id,
    node_id: Buffer.from(`04:User${a.id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${a.id}?v=4`,
    gravatar_id: '',
    url: `${api}/users/${a.login}`,
    html_url: `https://github.com/${a.login}`,
    followers_url: `${api}/users/${a.login}/followers`,
    following_url: `${api}/users/${a.login}/following{/other_user}`,
    gists_url: `${api}/users/${a.login}/gists{/gist_id}`,
    starred_url: `${api}/users/${a.login}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/users/${a.login}/subscriptions`,
    organizations_url: `${api}/users/${a.login}/orgs`,
    repos_url: `${api}/users/${a.login}/repos`,
    events_url: `${api}/users/${a.login}/events{/privacy}`,
    received_events_url: `${api}/users/${a.login}/received_events`,
    type: 'User',
    user_view_type: 'public',
    site_admin: false,
    name: a.name ?? null,
    company: null,
    blog: '',
    location: null,
    email: a.email ?? null,
    hireable: null,
    bio: null,
    twitter_username: null,
    notification_email: a.email ?? null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2011-01-25T18:44:36Z',
    updated_at: '2024-06-01T12:00:00Z',
  };
}

function emailsJson(a) {
  return (a.emails ?? []).map((e) => ({
    email: e.email,
    primary: Boolean(e.primary),
    verified: Boolean(e.verified),
    visibility: e.visibility !== undefined ? e.visibility : (e.primary ? (e.email === a.email ? 'public' : 'private') : null),
  }));
}

export async function startGitHubStandIn({ tlsCert, tlsKey, clients, accounts }) {
  const requests = [];
  const codes = new Map();   // code -> { client_id, login, redirect_uri, scope, challenge, expiresAt }
  const tokens = new Map();  // access token -> { login, scope }
  let nextLogin = null;

  const account = (login) => accounts.find((a) => a.login === login)
    ?? accounts.find((a) => a.login.toLowerCase() === String(login).toLowerCase());
  const client = (id) => clients.find((c) => c.client_id === id);

  const send = (res, status, type, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
    res.end(body);
  };
  const page = (res, status, text) => send(res, status, 'text/plain; charset=utf-8', `${text}\n`);
  const redirect = (res, location) => { res.writeHead(302, { Location: location, 'Cache-Control': 'no-store' }); res.end(); };

  function authorize(req, res, q) {
    const app = client(q.client_id ?? '');
    if (!app) return page(res, 400, 'Not Found: no OAuth app has this client_id.');
    let redirectUri = app.callback_url;
    if (q.redirect_uri !== undefined) {
      if (!redirectFits(q.redirect_uri, app.callback_url)) {
        return page(res, 400, 'Be careful! The redirect_uri is not associated with this application. '
          + 'The application might be misconfigured or could be trying to redirect you to a website you weren\'t expecting.');
      }
      redirectUri = q.redirect_uri;
    }
    const state = q.state ?? '';
    const back = (params) => redirect(res, withQuery(redirectUri, { ...params, state }));
    if (q.code_challenge !== undefined && q.code_challenge_method !== 'S256') {
      return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256.', error_uri: AUTH_ERRORS });
    }
    const login = nextLogin;
    nextLogin = null;
    const who = login === null ? undefined : account(login);
    if (!who) {
      return back({ error: 'access_denied', error_description: 'The user has denied your application access.', error_uri: `${AUTH_ERRORS}/#access-denied` });
    }
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      client_id: app.client_id,
      login: who.login,
      redirect_uri: q.redirect_uri,
      scope: scopesOf(q.scope).join(','),
      challenge: q.code_challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return back({ code });
  }

  function accessToken(req, res, q, form) {
    const json = (req.headers.accept ?? '').toLowerCase().includes('application/json');
    const answer = (fields) => (json
      ? send(res, 200, 'application/json; charset=utf-8', JSON.stringify(fields))
      : send(res, 200, 'application/x-www-form-urlencoded; charset=utf-8', new URLSearchParams(fields).toString()));
    const fail = (error) => {
      const [description, uri] = TOKEN_ERROR[error];
      return answer({ error, error_description: description, error_uri: uri });
    };
    const p = { ...q, ...form };
    const basic = basicCredentials(req.headers.authorization);
    const clientId = p.client_id ?? basic?.client_id;
    const clientSecret = p.client_secret ?? basic?.client_secret;
    const app = client(clientId ?? '');
    if (!app || clientSecret === undefined || clientSecret !== app.client_secret
        || (basic && p.client_id !== undefined && basic.client_id !== p.client_id)) {
      return fail('incorrect_client_credentials');
    }
    const grant = codes.get(p.code ?? '');
    if (!grant || grant.client_id !== app.client_id) return fail('bad_verification_code');
    codes.delete(p.code);  // spent, whatever follows
    if (grant.expiresAt <= Date.now()) return fail('bad_verification_code');
    if (p.redirect_uri !== undefined && grant.redirect_uri !== undefined && p.redirect_uri !== grant.redirect_uri) {
      return fail('redirect_uri_mismatch');
    }
    if (grant.challenge !== undefined) {
      const verifier = p.code_verifier ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return fail('bad_verification_code');
    }
    const token = `gho_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
    tokens.set(token, { login: grant.login, scope: grant.scope });
    return answer({ access_token: token, token_type: 'bearer', scope: grant.scope });
  }

  function api(req, res, path) {
    const apiJson = (status, body, headers = {}) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body),
      { 'X-GitHub-Media-Type': 'github.v3; format=json', ...headers });
    if (!req.headers['user-agent']) return send(res, 403, 'text/plain; charset=utf-8', NO_USER_AGENT);
    const m = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const grant = m ? tokens.get(m[1]) : undefined;
    const who = grant ? account(grant.login) : undefined;
    if (!who) {
      return apiJson(401, { message: 'Bad credentials', documentation_url: `${DOCS}/rest`, status: '401' });
    }
    const scopes = scopesOf(grant.scope);
    const scopeHeaders = { 'X-OAuth-Scopes': scopes.join(', ') };
    if (req.method !== 'GET') {
      return apiJson(404, { message: 'Not Found', documentation_url: `${DOCS}/rest`, status: '404' }, scopeHeaders);
    }
    if (path === '/user') return apiJson(200, userJson(who), { ...scopeHeaders, 'X-Accepted-OAuth-Scopes': '' });
    if (path === '/user/emails') {
      const accepted = { ...scopeHeaders, 'X-Accepted-OAuth-Scopes': 'user, user:email' };
      if (!scopes.includes('user:email') && !scopes.includes('user')) {
        return apiJson(404, { message: 'Not Found', documentation_url: `${DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user`, status: '404' }, accepted);
      }
      return apiJson(200, emailsJson(who), accepted);
    }
    return apiJson(404, { message: 'Not Found', documentation_url: `${DOCS}/rest`, status: '404' }, scopeHeaders);
  }

  const server = createServer({ key: tlsKey, cert: tlsCert }, async (req, res) => {
    try {
      const url = new URL(req.url, 'https://127.0.0.1');
      const query = Object.fromEntries(url.searchParams);
      const entry = { method: req.method, path: url.pathname, query, headers: { ...req.headers } };
      requests.push(entry);
      const text = await readBody(req);
      const form = req.method === 'POST' ? parseBody(req, text) : {};
      if (req.method === 'POST') entry.form = form;
      if (url.pathname === '/login/oauth/authorize' && req.method === 'GET') return authorize(req, res, query);
      if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') return accessToken(req, res, query, form);
      if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return api(req, res, url.pathname.slice(4));
      return page(res, 404, 'Not Found');
    } catch (e) {
      if (!res.headersSent) page(res, 500, `stand-in error: ${e.message}`);
      else res.destroy();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const base = `https://127.0.0.1:${server.address().port}`;

  return {
    base,
    authorizeUrl: `${base}/login/oauth/authorize`,
    tokenUrl: `${base}/login/oauth/access_token`,
    apiBase: `${base}/api`,
    requests,
    setNextLogin(login) { nextLogin = login ?? null; },
    expireCodes() { for (const grant of codes.values()) grant.expiresAt = Date.now() - 1; },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
