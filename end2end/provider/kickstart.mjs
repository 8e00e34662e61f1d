// Reads kickstart/kickstart.json (the file FusionAuth itself runs on an empty instance) and turns it
// into the client and user list the stand-in provider needs. One source of truth for both.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

// Well-known id of the "FusionAuth" admin application in every FusionAuth instance.
const FUSIONAUTH_APPLICATION_ID = '3c219e58-ed0e-4b18-ad48-f4f92793ae32';

// Kickstart replacement syntax: #{name}, #{ENV.NAME}, #{UUID()}, #{FUSIONAUTH_APPLICATION_ID}.
function makeResolver(rawVariables, env) {
  const resolved = new Map();
  const resolving = new Set();

  const lookup = (name) => {
    if (name === 'UUID()') return randomUUID();
    if (name.startsWith('ENV.')) return env[name.slice(4)] ?? '';
    if (name === 'FUSIONAUTH_APPLICATION_ID') return FUSIONAUTH_APPLICATION_ID;
    if (resolved.has(name)) return resolved.get(name);
    if (!(name in rawVariables)) throw new Error(`kickstart: unknown variable #{${name}}`);
    if (resolving.has(name)) throw new Error(`kickstart: variable #{${name}} refers to itself`);
    resolving.add(name);
    const value = resolveString(String(rawVariables[name]));
    resolving.delete(name);
    resolved.set(name, value);
    return value;
  };

  const resolveString = (s) => s.replace(/#\{([^}]+)\}/g, (_, name) => lookup(name.trim()));

  const resolveDeep = (value) => {
    if (typeof value === 'string') return resolveString(value);
    if (Array.isArray(value)) return value.map(resolveDeep);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v)]));
    }
    return value;
  };

  return { resolveDeep, lookup };
}

/** The stand-in's view of a POST /api/application/<id> request: the OAuth client and its token settings. */
function applicationOf(appRequest) {
  const application = appRequest.body.application;
  const oauth = application.oauthConfiguration ?? {};
  const jwt = application.jwtConfiguration ?? {};
  return {
    clientId: application.id ?? appRequest.url.split('/')[3],
    name: application.name,
    clientSecret: oauth.clientSecret,
    redirectUris: oauth.authorizedRedirectURLs ?? [],
    logoutUrl: oauth.logoutURL,
    enabledGrants: oauth.enabledGrants ?? ['authorization_code'],
    generateRefreshTokens: Boolean(oauth.generateRefreshTokens),
    requireRegistration: Boolean(oauth.requireRegistration),
    pkceRequired: oauth.proofKeyForCodeExchangePolicy === 'Required',
    clientAuthRequired: (oauth.clientAuthenticationPolicy ?? 'Required') === 'Required',
    registrationEnabled: Boolean(application.registrationConfiguration?.enabled),
    accessTokenTtlSecs: jwt.timeToLiveInSeconds ?? 3600,
    refreshTokenTtlSecs: (jwt.refreshTokenTimeToLiveInMinutes ?? 43200) * 60,
    refreshTokenOneTimeUse: jwt.refreshTokenUsagePolicy === 'OneTimeUse',
  };
}

/** The user (with its registrations) of a POST /api/user/registration/<userId> request. */
function userOf(request) {
  const u = request.body.user ?? {};
  const id = u.id ?? request.url.split('/')[4] ?? randomUUID();
  const registrations = [request.body.registration].filter(Boolean).map((reg) => ({
    applicationId: reg.applicationId,
    roles: reg.roles ?? [],
  }));
  return {
    id,
    email: u.email,
    username: u.username,
    password: u.password,
    firstName: u.firstName,
    lastName: u.lastName,
    fullName: u.fullName ?? ([u.firstName, u.lastName].filter(Boolean).join(' ') || undefined),
    verified: Boolean(u.verified || request.body.skipVerification),
    registrations,
  };
}

export function loadKickstart(path, env = process.env) {
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const { resolveDeep, lookup } = makeResolver(raw.variables ?? {}, env);
  const requests = (raw.requests ?? []).map(resolveDeep);

  const byUrl = (method, re) => requests.filter((r) => r.method === method && re.test(r.url));

  const appRequests = byUrl('POST', /^\/api\/application(\/|$)/);
  if (appRequests.length === 0) throw new Error('kickstart: no POST /api/application request found');
  if (appRequests.length > 1) throw new Error('kickstart: the stand-in supports exactly one application');
  const appRequest = appRequests[0];
  const jwt = appRequest.body.application.jwtConfiguration ?? {};

  const tenantPatch = byUrl('PATCH', /^\/api\/tenant\//)[0];
  const tenantId = appRequest.tenantId
    ?? tenantPatch?.url.split('/')[3]
    ?? (raw.variables?.defaultTenantId ? lookup('defaultTenantId') : undefined);

  const keyRequest = byUrl('POST', /^\/api\/key\/generate\//)[0];
  const keyId = jwt.idTokenKeyId ?? keyRequest?.url.split('/')[4];

  return {
    tenantId,
    issuer: tenantPatch?.body?.tenant?.issuer,
    keyId,
    application: applicationOf(appRequest),
    users: byUrl('POST', /^\/api\/user\/registration(\/|$)/).map(userOf),
  };
}

/**
 * The kickstart's `requests` with every #{…} resolved, nothing else interpreted (the type contract
 * in contract/ checks each body against FusionAuth's official request types).
 */
export function resolveKickstartRequests(raw, env = process.env) {
  const { resolveDeep } = makeResolver(raw.variables ?? {}, env);
  return (raw.requests ?? []).map(resolveDeep);
}
