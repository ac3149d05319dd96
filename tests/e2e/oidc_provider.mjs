// A local OpenID Connect provider for the e2e tests of social login: the
// real protocol (oidc-provider, panva's certified implementation) standing in
// for Google and the like, over HTTPS with the e2e certificate.
//
//   const op = await startOidcProvider({ tlsCert, tlsKey, clients, accounts });
//   // tlsCert/tlsKey: PEM strings (ORBITNEST_E2E_TLS_CERT/_KEY, read)
//   // clients:  [{ client_id, client_secret, redirect_uris: [...] , ...any other client metadata }]
//   // accounts: [{ sub, email, email_verified, name }]
//   op.issuer            'https://127.0.0.1:<port>' (discovery at op.issuer + '/.well-known/openid-configuration')
//   op.port
//   op.setNextLogin(sub) the account the next authorization request signs in as (once); null: none
//   op.setIdTokenOverride(fn, { signature })   alter the next ID token the token endpoint hands out
//   op.requests          every request: { method, path, query } (path without the query; bodies not kept)
//   await op.stop()
//
// The issuer is https://127.0.0.1:<port>, not localhost: the certificate
// names both, a browser keeps cookies per host whatever the port (so the
// provider's cookies never mix with the appliance's on https://localhost),
// and 127.0.0.1 cannot resolve to ::1 where nothing listens.
//
// Protocol: authorization code flow only (response_type code), PKCE with
// S256 required of every client (oidc-provider 8's default, confidential
// clients too), scopes openid email profile, claims email and
// email_verified (scope email) and name (scope profile) in the ID token as
// well as at userinfo, nonce echoed, ID tokens RS256 (a client may ask for
// ES256 with id_token_signed_response_alg), client authentication by
// client_secret_basic or client_secret_post (either one, for any client),
// a code is single-use (a second exchange is invalid_grant and revokes what
// the first one issued), the authorization response carries `iss` (RFC 9207).
//
// No pages: every authorization request goes through an interaction (a
// session of the provider from an earlier sign-in does not skip it), and the
// interaction completes by itself: signed in as the account given to
// setNextLogin with every requested scope granted, or, when none was given,
// the error access_denied redirected to the client.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

const SCOPES = ['openid', 'email', 'profile'];

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = (pair, alg) => {
    const key = pair.privateKey.export({ format: 'jwk' });
    const kid = createHash('sha256').update(JSON.stringify(pair.publicKey.export({ format: 'jwk' }))).digest('base64url').slice(0, 16);
    return { ...key, kid, alg, use: 'sig' };
  };
  // The RSA key first: what a client gets without asking for an algorithm.
  return { jwks: [jwk(rsa, 'RS256'), jwk(ec, 'ES256')], privateKeys: { RS256: rsa.privateKey, ES256: ec.privateKey } };
}

const SIGNATURES = ['provider', 'foreign', 'none', 'client_secret'];

// Re-signs `idToken` after `fn` altered its claims (and maybe its header):
// signature 'provider' (the provider's own key, the token verifies),
// 'foreign' (a key of the same type the JWKS does not hold, same kid),
// 'none' (alg none, no signature) or 'client_secret' (HS256 keyed with the
// client's secret, kid removed).
async function rewriteIdToken(idToken, { fn, signature }, privateKeys, clientSecret) {
  const header = decodeProtectedHeader(idToken);
  const original = decodeJwt(idToken);
  const claims = structuredClone(original);
  const returned = await fn(claims, header);
  if (returned === null) return undefined;
  const payload = returned ?? claims;
  if (signature === 'none') {
    const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
    return `${enc({ ...header, alg: 'none' })}.${enc(payload)}.`;
  }
  let key = privateKeys[header.alg];
  if (signature === 'client_secret') {
    const { kid, ...rest } = header;
    return new SignJWT(payload).setProtectedHeader({ ...rest, alg: 'HS256' }).sign(new TextEncoder().encode(clientSecret));
  }
  if (!key) throw new Error(`setIdTokenOverride: no key of the provider for alg ${header.alg}`);
  if (signature === 'foreign') {
    key = header.alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
      : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  } else if (signature !== 'provider') {
    throw new Error(`setIdTokenOverride: unknown signature ${signature}`);
  }
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

// The provider's state (sessions, interactions, codes, tokens, grants) in a
// Map of this provider alone, gone with it; an entry past its lifetime is
// not found. (oidc-provider's own in-memory adapter is one LRU of 1000
// entries for the whole process, and it warns on every start.)
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function memoryAdapter() {
  const store = new Map();  // key -> { value, expiresAt }
  const now = () => Math.floor(Date.now() / 1000);
  const get = (key) => {
    const entry = store.get(key);
    if (entry && entry.expiresAt !== undefined && entry.expiresAt <= now()) { store.delete(key); return undefined; }
    return entry?.value;
  };
  const set = (key, value, expiresIn) => store.set(key, { value, expiresAt: expiresIn ? now() + expiresIn : undefined });
  return class Adapter {
    constructor(model) { this.model = model; }
    key(id) { return `${this.model}:${id}`; }
    async upsert(id, payload, expiresIn) {
      if (this.model === 'Session') set(`sessionUid:${payload.uid}`, id, expiresIn);
      if (GRANTABLE.has(this.model) && payload.grantId) set(`grant:${payload.grantId}`, [...(get(`grant:${payload.grantId}`) ?? []), this.key(id)]);
      if (payload.userCode) set(`userCode:${payload.userCode}`, id, expiresIn);
      set(this.key(id), payload, expiresIn);
    }
    async find(id) { return get(this.key(id)); }
    async findByUid(uid) { return this.find(get(`sessionUid:${uid}`)); }
    async findByUserCode(userCode) { return this.find(get(`userCode:${userCode}`)); }
    async consume(id) { const payload = get(this.key(id)); if (payload) payload.consumed = now(); }
    async destroy(id) { store.delete(this.key(id)); }
    async revokeByGrantId(grantId) {
      for (const key of get(`grant:${grantId}`) ?? []) store.delete(key);
      store.delete(`grant:${grantId}`);
    }
  };
}

export async function startOidcProvider({ tlsCert, tlsKey, clients, accounts }) {
  const accountsBySub = new Map(accounts.map((a) => [a.sub, a]));
  const requests = [];
  let nextLogin;            // sub, consumed by the next interaction
  let idTokenOverride;      // { fn, signature }, consumed by the next token response with an ID token
  let handler = (req, res) => { res.statusCode = 503; res.end(); };

  const server = createServer({ key: tlsKey, cert: tlsCert }, (req, res) => {
    const url = new URL(req.url, 'https://127.0.0.1');
    requests.push({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams) });
    handler(req, res);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const issuer = `https://127.0.0.1:${port}`;

  const { jwks, privateKeys } = signingKeys();

  // Login prompts on every authorization request, until this request's
  // interaction has signed someone in: setNextLogin always decides.
  const policy = interactionPolicy.base();
  policy.get('login').checks.add(new interactionPolicy.Check(
    'stand_in_fresh_login',
    'every authorization request signs in afresh',
    (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT),
  ));

  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted as well
      ...c,
    })),
    adapter: memoryAdapter(),
    jwks: { keys: jwks },
    findAccount: async (ctx, sub) => {
      const account = accountsBySub.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return Object.fromEntries(Object.entries({
            sub,
            email: account.email,
            email_verified: account.email_verified,
            name: account.name,
          }).filter(([, v]) => v !== undefined));
        },
      };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: SCOPES,
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { methods: ['S256'], required: () => true },
    cookies: {
      keys: [randomBytes(32).toString('base64url')],
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    interactions: {
      policy,
      url: (ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // Errors that cannot go back to a client (an unknown client, a
    // redirect_uri not registered): JSON, not the default HTML page.
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
    clientBasedCORS: () => false,
  });

  // The token endpoint's answer, altered when a test asked for it.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.id_token && idTokenOverride) {
      const override = idTokenOverride;
      idTokenOverride = undefined;
      const idToken = await rewriteIdToken(ctx.body.id_token, override, privateKeys, ctx.oidc.client.clientSecret);
      const body = { ...ctx.body, id_token: idToken };
      if (body.id_token === undefined) delete body.id_token;
      ctx.body = body;
    }
  });

  async function interact(req, res) {
    try {
      const interaction = await provider.interactionDetails(req, res);
      const { params, prompt } = interaction;
      // A browser signed in here before: this sign-in starts a session of
      // its own (the old one stays, and what was issued under it), else
      // oidc-provider would first log the old account out with a page of
      // its own (an auto-submitting form) when the account changes.
      if (interaction.session) {
        delete interaction.session;
        await interaction.save(interaction.exp - Math.floor(Date.now() / 1000));
        const gone = 'Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Secure; HttpOnly; SameSite=Lax';
        res.setHeader('Set-Cookie', ['_session', '_session.sig'].map((name) => `${name}=; ${gone}`));
      }
      const sub = nextLogin;
      nextLogin = undefined;
      if (sub === undefined) {
        await provider.interactionFinished(req, res, {
          error: 'access_denied',
          error_description: 'the stand-in provider had no login set (setNextLogin)',
        }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: sub, clientId: params.client_id });
      grant.addOIDCScope(String(params.scope ?? 'openid'));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, {
        login: { accountId: sub },
        consent: { grantId },
      }, { mergeWithLastSubmission: false });
    } catch (err) {
      // No interaction behind this URL (or its cookie is missing): say so.
      res.statusCode = 400;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ error: 'invalid_request', error_description: `interaction: ${err.message}` }));
    }
  }

  const callback = provider.callback();
  handler = (req, res) => {
    if (req.method === 'GET' && /^\/interaction\/[^/?]+(\?|$)/.test(req.url)) interact(req, res);
    else callback(req, res);
  };

  return {
    issuer,
    port,
    requests,
    // The account the next authorization request signs in as (one
    // interaction only); null or undefined: the next one is access_denied.
    setNextLogin(sub) {
      if (sub != null && !accountsBySub.has(sub)) throw new Error(`setNextLogin: no account ${sub}`);
      nextLogin = sub ?? undefined;
    },
    // The next ID token the token endpoint issues goes through fn(claims,
    // header) first: fn alters the claims (and the protected header, its
    // kid say; keep its alg) in place or returns new claims; returning null
    // drops id_token from the response. The result is signed per
    // `signature`: 'provider' (the provider's own key: only the claims are
    // wrong), 'foreign' (a key of the same type that is not in the JWKS,
    // under the same kid), 'none' (alg none, empty signature),
    // 'client_secret' (HS256 with the client's secret: the algorithm
    // confusion a client registered for RS256 must refuse). Once;
    // setIdTokenOverride(null) cancels.
    setIdTokenOverride(fn, { signature = 'provider' } = {}) {
      if (!SIGNATURES.includes(signature)) throw new Error(`setIdTokenOverride: unknown signature ${signature}`);
      idTokenOverride = fn ? { fn, signature } : undefined;
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
