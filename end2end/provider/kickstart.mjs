// Reads kickstart/kickstart.json (the file FusionAuth itself runs on an empty instance) and turns it
// into what the stand-in provider imitates: the tenant (issuer, enabled events), the applications
// (OAuth clients and their roles), the users and their registrations, the keys and the webhooks.
// One source of truth for both. `variables` can be overridden for a second deployment.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { envExample } from '../support/env.mjs';

// Well-known id of the "FusionAuth" admin application in every FusionAuth instance.
const FUSIONAUTH_APPLICATION_ID = '3c219e58-ed0e-4b18-ad48-f4f92793ae32';

/**
 * Kickstart replacement syntax: #{name}, #{ENV.NAME}, #{UUID()}, #{FUSIONAUTH_APPLICATION_ID}.
 * `envValue(NAME)` answers #{ENV.NAME}.
 */
function makeResolver(rawVariables, envValue) {
  const resolved = new Map();
  const resolving = new Set();

  const lookup = (name) => {
    if (name === 'UUID()') return randomUUID();
    if (name.startsWith('ENV.')) return envValue(name.slice(4), lookup);
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

/**
 * #{ENV.NAME}: the environment, else .env.example, else the stand-in's own default (empty counts
 * as unset). Unset FUSIONAUTH_WEBHOOK_URL means "the app itself": <appUrl>/webhooks/fusionauth
 * (compose.env points a real FusionAuth at the app-pod service instead).
 */
function environmentValue(env) {
  const defaults = {
    FUSIONAUTH_WEBHOOK_URL: (lookup) => `${lookup('appUrl')}/webhooks/fusionauth`,
  };
  const given = (value) => (value === '' ? undefined : value);
  return (name, lookup) => given(env[name]) ?? given(envExample()[name]) ?? defaults[name]?.(lookup) ?? '';
}

const lastSegment = (url) => url.split('/').filter(Boolean).pop();

/** The stand-in's view of a POST /api/application/<id> request: the OAuth client, its settings and roles. */
function applicationOf(appRequest) {
  const application = appRequest.body.application;
  const oauth = application.oauthConfiguration ?? {};
  const jwt = application.jwtConfiguration ?? {};
  return {
    clientId: application.id ?? lastSegment(appRequest.url),
    name: application.name,
    tenantId: appRequest.tenantId,
    clientSecret: oauth.clientSecret,
    redirectUris: oauth.authorizedRedirectURLs ?? [],
    logoutUrl: oauth.logoutURL,
    logoutBehavior: oauth.logoutBehavior ?? 'AllApplications',
    enabledGrants: oauth.enabledGrants ?? ['authorization_code'],
    generateRefreshTokens: Boolean(oauth.generateRefreshTokens),
    requireRegistration: Boolean(oauth.requireRegistration),
    // FusionAuth 1.50+ defaults new applications to Strict (docs: application.oauthConfiguration.scopeHandlingPolicy).
    scopeHandlingPolicy: oauth.scopeHandlingPolicy ?? 'Strict',
    pkceRequired: oauth.proofKeyForCodeExchangePolicy === 'Required',
    registrationEnabled: Boolean(application.registrationConfiguration?.enabled),
    roles: (application.roles ?? []).map((r) => (typeof r === 'string' ? { name: r } : r)),
    accessTokenTtlSecs: jwt.timeToLiveInSeconds ?? 3600,
    refreshTokenTtlSecs: (jwt.refreshTokenTimeToLiveInMinutes ?? 43200) * 60,
    refreshTokenUsagePolicy: jwt.refreshTokenUsagePolicy ?? 'Reusable',
  };
}

/** A registration as FusionAuth stores it; no roles given means the application's default roles. */
function registrationOf(reg, applications) {
  const app = applications.find((a) => a.clientId === reg.applicationId);
  const defaultRoles = (app?.roles ?? []).filter((r) => r.isDefault).map((r) => r.name);
  return {
    id: randomUUID(),
    applicationId: reg.applicationId,
    roles: reg.roles ?? defaultRoles,
    insertInstant: Date.now(),
  };
}

function userOf(id, u, verified) {
  return {
    id,
    active: true,
    email: u.email,
    username: u.username,
    password: u.password,
    firstName: u.firstName,
    lastName: u.lastName,
    fullName: u.fullName ?? ([u.firstName, u.lastName].filter(Boolean).join(' ') || undefined),
    verified: Boolean(u.verified || verified),
    insertInstant: Date.now(),
    registrations: [],
  };
}

/**
 * The users of the POST /api/user/<id> and POST /api/user/registration/<id> requests, in order: a
 * request with a `user` creates it, a registration request without one registers an existing user.
 */
function usersOf(requests, applications) {
  const users = new Map();
  for (const request of requests) {
    const withRegistration = /^\/api\/user\/registration(\/|$)/.test(request.url);
    if (request.method !== 'POST' || !(withRegistration || /^\/api\/user(\/[^/]+)?$/.test(request.url))) continue;
    const { user, registration, skipVerification } = request.body ?? {};
    const id = user?.id ?? (lastSegment(request.url) === 'registration' ? randomUUID() : lastSegment(request.url));
    if (user) users.set(id, userOf(id, user, skipVerification));
    if (!users.has(id)) throw new Error(`kickstart: ${request.url} registers a user no earlier request created`);
    if (withRegistration && registration) users.get(id).registrations.push(registrationOf(registration, applications));
  }
  return [...users.values()];
}

/** Imported HMAC keys by id (what the stand-in can sign webhooks with). */
function hmacKeysOf(requests) {
  const keys = new Map();
  for (const request of requests.filter((r) => r.method === 'POST' && /^\/api\/key\/import\//.test(r.url))) {
    const key = request.body.key ?? {};
    if (key.type !== 'HMAC') continue;
    const id = key.id ?? lastSegment(request.url);
    // FusionAuth generates a kid when the import gives none; the stand-in derives a stable one.
    const kid = key.kid ?? createHash('sha256').update(id).digest('hex').slice(0, 10);
    keys.set(id, { id, kid, algorithm: key.algorithm, secret: key.secret });
  }
  return keys;
}

/** The webhooks of POST /api/webhook[/<id>] requests, each with the key it is signed with. */
function webhooksOf(requests) {
  const keys = hmacKeysOf(requests);
  return requests.filter((r) => r.method === 'POST' && /^\/api\/webhook(\/|$)/.test(r.url)).map((request) => {
    const w = request.body.webhook;
    const signing = w.signatureConfiguration ?? {};
    const signingKey = signing.enabled ? keys.get(signing.signingKeyId) : undefined;
    if (signing.enabled && !signingKey) {
      throw new Error(`kickstart: webhook ${w.url} is signed with key ${signing.signingKeyId}; the stand-in signs with imported HMAC keys only`);
    }
    return {
      id: w.id ?? (lastSegment(request.url) === 'webhook' ? randomUUID() : lastSegment(request.url)),
      url: w.url,
      connectTimeout: Number(w.connectTimeout ?? 1000),
      readTimeout: Number(w.readTimeout ?? 2000),
      global: Boolean(w.global),
      tenantIds: w.tenantIds ?? [],
      eventsEnabled: w.eventsEnabled ?? {},
      headers: w.headers ?? {},
      signingKey,
    };
  });
}

/** The kickstart's variables, with `overrides` (a second deployment's URLs) merged over the file's. */
function variablesOf(raw, overrides) {
  return { ...(raw.variables ?? {}), ...(overrides ?? {}) };
}

/** All variables of the kickstart at `path`, resolved (for tools that need the URLs and ids). */
export function kickstartVariables(path, env = process.env, { variables: overrides } = {}) {
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const variables = variablesOf(raw, overrides);
  const { lookup } = makeResolver(variables, environmentValue(env));
  return Object.fromEntries(Object.keys(variables).map((name) => [name, lookup(name)]));
}

/**
 * The FusionAuth instance the kickstart at `path` provisions. `env` answers #{ENV.X} (then
 * .env.example); `variables` overrides the file's variables.
 */
export function loadKickstart(path, env = process.env, { variables: overrides } = {}) {
  const raw = JSON.parse(readFileSync(path, 'utf8'));
  const variables = variablesOf(raw, overrides);
  const { resolveDeep, lookup } = makeResolver(variables, environmentValue(env));
  const requests = (raw.requests ?? []).map(resolveDeep);
  const byUrl = (method, re) => requests.filter((r) => r.method === method && re.test(r.url));

  const applications = byUrl('POST', /^\/api\/application(\/|$)/).map(applicationOf);
  if (applications.length === 0) throw new Error('kickstart: no POST /api/application request found');
  const tenantPatch = byUrl('PATCH', /^\/api\/tenant\//)[0];
  const tenantId = applications[0].tenantId
    ?? tenantPatch?.url.split('/')[3]
    ?? ('defaultTenantId' in variables ? lookup('defaultTenantId') : undefined);
  const keyRequest = byUrl('POST', /^\/api\/key\/generate\//)[0];

  return {
    tenantId,
    issuer: tenantPatch?.body?.tenant?.issuer,
    tenantEvents: tenantPatch?.body?.tenant?.eventConfiguration?.events ?? {},
    keyId: keyRequest ? lastSegment(keyRequest.url) : undefined,
    applications,
    users: usersOf(requests, applications),
    webhooks: webhooksOf(requests),
  };
}

/**
 * The kickstart's `requests` with every #{…} resolved, nothing else interpreted (the type contract
 * in contract/ checks each body against FusionAuth's official request types).
 */
export function resolveKickstartRequests(raw, env = process.env) {
  const { resolveDeep } = makeResolver(raw.variables ?? {}, environmentValue(env));
  return (raw.requests ?? []).map(resolveDeep);
}
