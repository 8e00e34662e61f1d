// A stand-in for FusionAuth's OpenID Connect endpoints, built on oidc-provider (v8).
// See README.md in this directory for what it reproduces and where it differs.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { resolve } from 'node:path';

import Provider, { interactionPolicy } from 'oidc-provider';

import { loadKickstart } from './kickstart.mjs';
import { loadOrCreateKeys, publicKid, rotateKeys } from './keys.mjs';
import { esc, loginPage, messagePage, registerPage } from './views.mjs';

const SESSION_COOKIE = 'fusionauth.sso';
const COOKIE_NAMES = {
  session: SESSION_COOKIE,
  interaction: 'fusionauth.interaction',
  resume: 'fusionauth.interaction.resume',
};
// Signed (keygrip), lax and not Secure: the provider and the app both run on http://localhost in dev.
const LONG_COOKIE = { httpOnly: true, sameSite: 'lax', signed: true, secure: false };
const SHORT_COOKIE = { httpOnly: true, sameSite: 'lax', signed: true, secure: false };
const REGISTER_FLAG = 'x_register'; // internal marker added when /oauth2/register is used
const INVALID_CREDENTIALS = 'Invalid login credentials.';

const epoch = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------------------------------------
// Storage shared by every Provider instance of this process (a new instance is built when the
// signing key rotates, so sessions, grants and refresh tokens survive a rotation).
class MemoryStore {
  #map = new Map();

  get(key) {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.exp && entry.exp <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, ttlSecs) {
    this.#map.set(key, { value, exp: ttlSecs ? Date.now() + ttlSecs * 1000 : 0 });
  }

  delete(key) { this.#map.delete(key); }

  sweep() {
    const t = Date.now();
    for (const [key, entry] of this.#map) if (entry.exp && entry.exp <= t) this.#map.delete(key);
  }
}

function adapterFor(store) {
  return class MemoryAdapter {
    constructor(model) { this.model = model; }

    key(id) { return `${this.model}:${id}`; }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, id, expiresIn);
      if (payload.grantId && this.model !== 'Grant') {
        const grantKey = `grant:${payload.grantId}`;
        store.set(grantKey, [...(store.get(grantKey) ?? []), key]);
      }
      if (payload.userCode) store.set(`userCode:${payload.userCode}`, id, expiresIn);
      store.set(key, payload, expiresIn);
    }

    async find(id) { return store.get(this.key(id)); }

    async findByUid(uid) {
      const id = store.get(`sessionUid:${uid}`);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode) {
      const id = store.get(`userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }

    async consume(id) {
      const payload = store.get(this.key(id));
      if (payload) payload.consumed = epoch();
    }

    async destroy(id) { store.delete(this.key(id)); }

    async revokeByGrantId(grantId) {
      const grantKey = `grant:${grantId}`;
      for (const key of store.get(grantKey) ?? []) store.delete(key);
      store.delete(grantKey);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// small helpers

async function readForm(req, limit = 64 * 1024) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

const digest = (s) => createHash('sha256').update(String(s ?? ''), 'utf8').digest();
const passwordMatches = (actual, expected) => typeof expected === 'string'
  && timingSafeEqual(digest(actual), digest(expected));

function appendParams(url, params) {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.href;
}

function decodeJwtPayload(jwt) {
  try {
    return JSON.parse(Buffer.from(String(jwt).split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

// Listen on the IPv4 and (when available) IPv6 loopback, so "localhost" works whichever it resolves to.
async function listenLoopback(handler, port) {
  const servers = [];
  for (const host of ['127.0.0.1', '::1']) {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 5000;
    try {
      // eslint-disable-next-line no-await-in-loop
      await new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen({ port, host, exclusive: true }, () => { server.off('error', fail); ok(); });
      });
      servers.push(server);
    } catch (err) {
      const ipv6Unavailable = host === '::1' && ['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes(err.code);
      if (!ipv6Unavailable) {
        await Promise.all(servers.map((s) => new Promise((ok) => { s.close(() => ok()); s.closeAllConnections(); })));
        throw err;
      }
    }
  }
  return servers;
}

async function closeServers(servers) {
  await Promise.all(servers.map((s) => new Promise((ok) => {
    s.close(() => ok());
    s.closeAllConnections();
  })));
}

// ---------------------------------------------------------------------------------------------

/**
 * Starts the stand-in. Options (all optional):
 *   port (9011), controlPort (9012), issuer (http://localhost:<port>), kickstartFile, dataDir,
 *   accessTokenTtlSecs (defaults to the application's jwtConfiguration.timeToLiveInSeconds).
 */
export async function startStandIn(options = {}) {
  const here = import.meta.dirname ?? new URL('.', import.meta.url).pathname;
  const port = Number(options.port ?? 9011);
  const controlPort = Number(options.controlPort ?? 9012);
  const issuer = options.issuer ?? `http://localhost:${port}`;
  const kickstartFile = resolve(options.kickstartFile ?? resolve(here, '../../kickstart/kickstart.json'));
  const dataDir = resolve(options.dataDir ?? resolve(here, '.data'));
  const keysFile = resolve(dataDir, 'keys.json');

  const kickstart = loadKickstart(kickstartFile);
  const app = kickstart.application;
  const accessTtl = Number(options.accessTokenTtlSecs ?? app.accessTokenTtlSecs ?? 3600);
  const refreshTtl = app.refreshTokenTtlSecs;
  const tenantId = kickstart.tenantId ?? randomUUID();

  // users by id; users created through /oauth2/register are added here (memory only)
  const users = new Map(kickstart.users.map((u) => [u.id, u]));
  const userByEmail = (email) => {
    const wanted = String(email ?? '').trim().toLowerCase();
    for (const u of users.values()) {
      if (u.email?.toLowerCase() === wanted || (u.username && u.username.toLowerCase() === wanted)) return u;
    }
    return undefined;
  };
  const isRegistered = (user, clientId) => user.registrations.some((r) => r.applicationId === clientId);

  const store = new MemoryStore();
  const sweeper = setInterval(() => store.sweep(), 60_000);
  sweeper.unref();
  const Adapter = adapterFor(store);
  const cookieKeys = [randomBytes(32).toString('base64url')];

  let keys = loadOrCreateKeys(keysFile, kickstart.keyId);

  // ----- what FusionAuth's ID token / userinfo contain -----
  function claimsOf(user, use) {
    const claims = {
      sub: user.id,
      email: user.email,
      email_verified: user.verified,
      given_name: user.firstName,
      family_name: user.lastName,
      name: user.fullName,
      preferred_username: user.username,
    };
    if (use === 'userinfo') {
      // compatibility-mode userinfo also carries these (they left the ID token in FusionAuth 1.24)
      const registration = user.registrations.find((r) => r.applicationId === app.clientId);
      claims.applicationId = app.clientId;
      claims.roles = registration?.roles ?? [];
      claims.tid = tenantId;
    }
    return claims;
  }

  const client = {
    client_id: app.clientId,
    client_secret: app.clientSecret,
    client_name: app.name,
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.redirectUris,
    grant_types: app.enabledGrants.filter((g) => ['authorization_code', 'refresh_token'].includes(g)),
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted as well
    id_token_signed_response_alg: 'RS256',
    require_auth_time: true, // FusionAuth always puts auth_time in the ID token
  };

  const policy = interactionPolicy.base();
  // FusionAuth never asks first-party users for consent: `prompt=consent` (which oidc-provider
  // insists on before it honours offline_access) must not force an interaction.
  policy.get('consent').checks.remove('consent_prompt');

  async function grantFor(provider, { accountId, clientId, grantId, scope, claims }) {
    let grant = grantId ? await provider.Grant.find(grantId) : undefined;
    if (grant && (grant.accountId !== accountId || grant.clientId !== clientId)) grant = undefined;
    grant ??= new provider.Grant({ accountId, clientId });
    if (scope) grant.addOIDCScope(scope);
    if (claims?.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  }

  function buildProvider() {
    const provider = new Provider(issuer, {
      adapter: Adapter,
      clients: [client],
      jwks: { keys },
      findAccount: async (ctx, sub) => {
        const user = users.get(sub);
        if (!user) return undefined;
        return { accountId: sub, claims: async (use) => claimsOf(user, use) };
      },
      claims: {
        // applicationId/roles/tid are only returned by claimsOf() for userinfo (compatibility mode)
        openid: ['sub', 'applicationId', 'roles', 'tid'],
        email: ['email', 'email_verified'],
        profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      },
      conformIdTokenClaims: false, // FusionAuth puts email/profile claims in the ID token
      clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
      pkce: { methods: ['S256'], required: () => app.pkceRequired },
      cookies: { names: COOKIE_NAMES, long: LONG_COOKIE, short: SHORT_COOKIE, keys: cookieKeys },
      routes: {
        authorization: '/oauth2/authorize',
        token: '/oauth2/token',
        userinfo: '/oauth2/userinfo',
        end_session: '/oauth2/logout',
        introspection: '/oauth2/introspect',
        jwks: '/.well-known/jwks.json',
        revocation: '/oauth2/revoke-unsupported',
      },
      features: {
        devInteractions: { enabled: false },
        introspection: {
          enabled: true,
          allowedPolicy: async (ctx, caller, token) => token.clientId === caller.clientId,
        },
        revocation: { enabled: false }, // FusionAuth has no RFC 7009 endpoint
        pushedAuthorizationRequests: { enabled: false },
        resourceIndicators: { enabled: false },
        claimsParameter: { enabled: false },
        userinfo: { enabled: true },
        rpInitiatedLogout: {
          enabled: true, // advertises end_session_endpoint; the requests are served by logout() below
          logoutSource: async (ctx) => { ctx.body = messagePage('Logout', 'Logging out.'); },
          postLogoutSuccessSource: async (ctx) => { ctx.body = messagePage('Logout', 'You are logged out.'); },
        },
      },
      interactions: {
        policy,
        url: (ctx, interaction) => `/oauth2/interaction/${interaction.uid}`,
      },
      extraParams: [REGISTER_FLAG],
      loadExistingGrant: async (ctx) => {
        const { oidc } = ctx;
        return grantFor(oidc.provider, {
          accountId: oidc.account.accountId,
          clientId: oidc.client.clientId,
          grantId: oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId),
          scope: [...oidc.requestParamOIDCScopes].join(' '),
          claims: [...oidc.requestParamClaims],
        });
      },
      issueRefreshToken: async (ctx, c, code) => app.generateRefreshTokens
        && c.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
      rotateRefreshToken: () => app.refreshTokenOneTimeUse,
      expiresWithSession: () => false, // FusionAuth's logout ends the SSO session only; tokens stay valid
      ttl: {
        AccessToken: accessTtl,
        IdToken: accessTtl,
        AuthorizationCode: 60,
        RefreshToken: refreshTtl,
        Grant: Math.max(refreshTtl, 14 * 24 * 3600),
        Session: 14 * 24 * 3600,
        Interaction: 3600,
      },
      renderError: async (ctx, out) => {
        ctx.type = 'html';
        ctx.body = messagePage('Error', `${out.error}: ${out.error_description ?? ''}`);
      },
    });

    // FusionAuth-specific ID token claims.
    const { IdToken } = provider;
    const issue = IdToken.prototype.issue;
    IdToken.prototype.issue = async function issueWithFusionAuthClaims(opts = {}) {
      if (opts.use === 'idtoken') {
        const entities = this.ctx?.oidc?.entities ?? {};
        const source = entities.AuthorizationCode ?? entities.RefreshToken;
        const viaRefresh = this.ctx?.oidc?.params?.grant_type === 'refresh_token';
        this.set('jti', randomUUID());
        this.set('tid', tenantId);
        this.set('authenticationType', viaRefresh ? 'REFRESH_TOKEN' : 'PASSWORD');
        if (source?.sessionUid) this.set('sid', source.sessionUid);
        if (this.scope) this.set('scope', this.scope);
      }
      return issue.call(this, opts);
    };

    provider.on('server_error', (ctx, err) => {
      console.error(`stand-in provider: server error on ${ctx.method} ${ctx.path}:`, err);
    });

    provider.use(async (ctx, next) => fusionAuthRoutes(provider, ctx, next));
    return provider;
  }

  // ----- routes that oidc-provider does not shape like FusionAuth -----
  async function fusionAuthRoutes(provider, ctx, next) {
    const { path, method } = ctx;

    if (path === '/' && method === 'GET') {
      ctx.type = 'html';
      ctx.body = messagePage('FusionAuth stand-in', `Issuer ${issuer}. Nothing to see here.`);
      return undefined;
    }
    if (path === '/api/status' && method === 'GET') {
      ctx.body = { status: 'ok' };
      return undefined;
    }
    if (path === '/oauth2/logout' && (method === 'GET' || method === 'POST')) {
      return logout(provider, ctx);
    }

    if (path === '/oauth2/register' && method === 'GET') {
      // same parameters as /oauth2/authorize; always shows the registration form
      const query = { ...ctx.query, [REGISTER_FLAG]: '1' };
      const prompts = new Set(String(query.prompt ?? '').split(' ').filter(Boolean));
      prompts.delete('none');
      prompts.add('login');
      query.prompt = [...prompts].join(' ');
      ctx.path = '/oauth2/authorize';
      ctx.query = query;
    }

    if (ctx.path === '/oauth2/authorize' && method === 'GET') {
      // oidc-provider drops offline_access unless prompt contains consent (OIDC Core 11);
      // FusionAuth grants it without one. Consent itself never shows (see policy above).
      const query = { ...ctx.query };
      const scopes = String(query.scope ?? '').split(' ');
      const prompts = new Set(String(query.prompt ?? '').split(' ').filter(Boolean));
      if (scopes.includes('offline_access') && !prompts.has('none') && !prompts.has('consent')) {
        prompts.add('consent');
        query.prompt = [...prompts].join(' ');
        ctx.query = query;
      }
    }

    const interaction = ctx.path.match(/^\/oauth2\/interaction\/([\w-]+)(?:\/(login|register))?$/);
    if (interaction) return interactionRoute(provider, ctx, interaction[1], interaction[2]);

    await next();

    // FusionAuth adds locale and userState to the authorization response.
    if (ctx.status === 303 || ctx.status === 302) {
      const location = ctx.response.get('Location');
      if (location && app.redirectUris.some((u) => location.startsWith(`${u}?`))
          && new URL(location).searchParams.has('code')) {
        ctx.set('Location', appendParams(location, { locale: 'en', userState: 'Authenticated' }));
      }
    }
    // FusionAuth's token response also names the user.
    if (ctx.path === '/oauth2/token' && ctx.status === 200 && ctx.body?.access_token) {
      const accountId = ctx.oidc?.entities?.Account?.accountId;
      if (accountId) ctx.body = { ...ctx.body, userId: accountId };
    }
    return undefined;
  }

  async function logout(provider, ctx) {
    const params = ctx.method === 'POST' ? await readForm(ctx.req) : { ...ctx.query };
    let clientId = params.client_id;
    if (!clientId && params.id_token_hint) {
      const aud = decodeJwtPayload(params.id_token_hint)?.aud;
      clientId = Array.isArray(aud) ? aud[0] : aud;
    }

    // end the SSO session (tokens already issued stay valid, as in FusionAuth)
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (sessionId) {
      const session = await provider.Session.find(sessionId);
      if (session) await session.destroy();
    }
    ctx.cookies.set(SESSION_COOKIE, null, { ...LONG_COOKIE, path: '/' });

    const known = clientId === app.clientId;
    let target = '/';
    if (known && params.post_logout_redirect_uri && app.redirectUris.includes(params.post_logout_redirect_uri)) {
      target = params.post_logout_redirect_uri;
    } else if (known && app.logoutUrl) {
      target = app.logoutUrl;
    }
    if (params.state && target !== '/') target = appendParams(target, { state: params.state });

    ctx.set('Cache-Control', 'no-store');
    ctx.status = 302;
    ctx.redirect(target);
    return undefined;
  }

  async function interactionRoute(provider, ctx, uid, action) {
    ctx.set('Cache-Control', 'no-store');
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = messagePage('Login expired', 'This login request has expired or was already used. Return to the application and start again.');
      return undefined;
    }
    if (details.uid !== uid) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = messagePage('Login expired', 'This login request does not match your browser session. Return to the application and start again.');
      return undefined;
    }

    const { prompt, params } = details;
    const isRegistration = params[REGISTER_FLAG] === '1' && app.registrationEnabled;
    const finish = async (result) => {
      const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(returnTo);
    };

    if (prompt.name === 'consent') {
      // only reached when something unusual was requested: grant it, FusionAuth-style
      const grant = await grantFor(provider, {
        accountId: details.session.accountId,
        clientId: params.client_id,
        grantId: details.grantId,
        scope: params.scope,
      });
      return finish({ consent: { grantId: grant.jti } });
    }
    if (prompt.name !== 'login') {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = messagePage('Unsupported', `Unsupported interaction "${esc(prompt.name)}".`);
      return undefined;
    }

    const base = `/oauth2/interaction/${uid}`;
    const registerUrl = app.registrationEnabled
      ? `/oauth2/register?${new URLSearchParams(Object.entries(params)
        .filter(([k, v]) => v !== undefined && k !== REGISTER_FLAG && k !== 'prompt'))}`
      : undefined;
    const renderLogin = (extra = {}) => {
      ctx.type = 'html';
      ctx.body = loginPage({ action: `${base}/login`, appName: app.name, registerUrl, ...extra });
    };
    const renderRegister = (extra = {}) => {
      ctx.type = 'html';
      ctx.body = registerPage({ action: `${base}/register`, appName: app.name, ...extra });
    };
    const loginResult = async (user) => {
      const grant = await grantFor(provider, {
        accountId: user.id, clientId: params.client_id, scope: params.scope,
      });
      return finish({
        login: { accountId: user.id, remember: true, amr: ['pwd'] },
        consent: { grantId: grant.jti },
      });
    };

    if (ctx.method === 'GET' && !action) {
      if (isRegistration) renderRegister(); else renderLogin({ loginId: params.login_hint ?? '' });
      return undefined;
    }

    if (ctx.method === 'POST' && action === 'login') {
      const form = await readForm(ctx.req);
      const user = userByEmail(form.loginId);
      if (!user || !passwordMatches(form.password, user.password)) {
        renderLogin({ loginId: form.loginId, errors: [INVALID_CREDENTIALS] });
        return undefined;
      }
      if (app.requireRegistration && !isRegistered(user, params.client_id)) {
        renderLogin({ loginId: form.loginId, errors: [`You are not registered for ${app.name}.`] });
        return undefined;
      }
      return loginResult(user);
    }

    if (ctx.method === 'POST' && action === 'register' && app.registrationEnabled) {
      const form = await readForm(ctx.req);
      const values = {
        email: String(form.email ?? '').trim(),
        firstName: String(form.firstName ?? '').trim(),
        lastName: String(form.lastName ?? '').trim(),
      };
      const errors = [];
      if (!/^[^@\s]+@[^@\s]+$/.test(values.email)) errors.push('Email is required and must be a valid email address.');
      else if (userByEmail(values.email)) errors.push('A user with this email already exists.');
      if (String(form.password ?? '').length < 8) errors.push('Password must be at least 8 characters.');
      if (!values.firstName) errors.push('First name is required.');
      if (!values.lastName) errors.push('Last name is required.');
      if (errors.length) {
        renderRegister({ values, errors });
        return undefined;
      }
      const user = {
        id: randomUUID(),
        email: values.email,
        password: form.password,
        firstName: values.firstName,
        lastName: values.lastName,
        fullName: `${values.firstName} ${values.lastName}`,
        verified: false,
        registrations: [{ applicationId: app.clientId, roles: [] }],
      };
      users.set(user.id, user);
      return loginResult(user);
    }

    ctx.status = 405;
    ctx.body = 'Method Not Allowed';
    return undefined;
  }

  // ----- servers -----
  let provider = buildProvider();
  let handler = provider.callback();
  const onRequest = (req, res) => handler(req, res);

  let mainServers = await listenLoopback(onRequest, port);

  const state = () => ({
    issuer,
    port,
    controlPort,
    listening: mainServers.length > 0,
    kid: publicKid(keys),
  });

  async function rotate() {
    const previousKid = publicKid(keys);
    keys = rotateKeys(keysFile);
    provider = buildProvider();
    handler = provider.callback();
    return { previousKid, kid: publicKid(keys) };
  }

  async function stop() {
    const servers = mainServers;
    mainServers = [];
    await closeServers(servers);
  }

  async function start() {
    if (mainServers.length === 0) mainServers = await listenLoopback(onRequest, port);
  }

  const control = async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      const route = `${req.method} ${new URL(req.url, 'http://x').pathname}`;
      switch (route) {
        case 'GET /health': return reply(200, { ok: true, ...state() });
        case 'POST /rotate-key': return reply(200, { ok: true, ...(await rotate()) });
        case 'POST /stop': await stop(); return reply(200, { ok: true, ...state() });
        case 'POST /start': await start(); return reply(200, { ok: true, ...state() });
        default: return reply(404, { ok: false, error: `no route ${route}` });
      }
    } catch (err) {
      return reply(500, { ok: false, error: String(err.message ?? err) });
    }
  };
  let controlServers;
  try {
    controlServers = await listenLoopback(control, controlPort);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    issuer,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    get kid() { return publicKid(keys); },
    rotate,
    stop,
    start,
    async close() {
      clearInterval(sweeper);
      await stop();
      await closeServers(controlServers);
    },
  };
}
