// Checks, without a Docker engine, that the provisioning files agree with each other and with
// FusionAuth's API reference:
//   kickstart/kickstart.json   what a real FusionAuth runs on its first start (docker-compose.yml)
//   docker-compose.yml         + compose.env: the real-FusionAuth stack (db, fusionauth, app-pod, app)
//   .env.example               the app's own settings
//   end2end/provider/          the stand-in provider, which reads the same kickstart file
//   Dockerfile                 the app image
//
// Run from the repository root: `node --test end2end/provisioning.test.mjs`
// (scripts/check-provisioning.sh does, after validating the compose file).
// The compose file is read through `docker compose config` (Compose v2) or `docker-compose config`
// (v1, Debian's package) so that the values checked are the interpolated ones the containers get.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { loadKickstart } from './provider/kickstart.mjs';
import { ENV_EXAMPLE_FILE, REPO_ROOT as repoRoot, parseEnvFile } from './support/env.mjs';

const at = (...parts) => path.join(repoRoot, ...parts);

const KICKSTART_FILE = at('kickstart', 'kickstart.json');
// The kickstart for an empty FusionAuth as FusionAuth's setup wizard leaves it (API key + user);
// `leptos-fusionauth setup` provisions the rest (.github/workflows/e2e-fusionauth.yml, job "setup").
const BOOTSTRAP_KICKSTART_FILE = at('kickstart', 'bootstrap', 'kickstart.json');
const COMPOSE_FILE = at('docker-compose.yml');
const COMPOSE_ENV_FILE = at('compose.env');

// Ids FusionAuth gives its built-in objects (kickstart doc, "Referencing Defaults").
const FUSIONAUTH_APPLICATION_ID = '3c219e58-ed0e-4b18-ad48-f4f92793ae32';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// The test user of FusionAuth's Flask tutorial, whom the main README tells readers to sign in as
// and the Playwright suite logs in as. Written out here, not read from the kickstart, because
// this file checks the kickstart.
const TEST_USER = { email: 'richard@example.com', firstName: 'Richard', lastName: 'Hendricks' };

// ---------------------------------------------------------------------------------------------
// Helpers

function run(command, args, input, env = {}) {
  return spawnSync(command, args, { cwd: repoRoot, encoding: 'utf8', input, maxBuffer: 16 << 20, env: { ...process.env, ...env } });
}

/** The compose file after interpolation with compose.env (and `env`), as a plain object. */
function loadComposeConfig(env = {}) {
  const globalArgs = ['-f', COMPOSE_FILE, '--env-file', COMPOSE_ENV_FILE];
  // Compose v2 can print JSON itself.
  const v2 = run('docker', ['compose', ...globalArgs, 'config', '--format', 'json'], undefined, env);
  if (v2.status === 0) return JSON.parse(v2.stdout);
  // Compose v1 prints YAML; convert it with PyYAML, which docker-compose v1 itself depends on.
  const v1 = run('docker-compose', [...globalArgs, 'config'], undefined, env);
  if (v1.error?.code === 'ENOENT') {
    throw new Error(
      'neither `docker compose` (v2) nor `docker-compose` (v1) is available to read docker-compose.yml; ' +
        'scripts/check-provisioning.sh installs Debian\'s docker-compose',
    );
  }
  if (v1.status !== 0) throw new Error(`docker-compose config failed:\n${v1.stderr}`);
  const json = run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], v1.stdout);
  if (json.status !== 0) throw new Error(`cannot convert the compose config to JSON (python3-yaml):\n${json.stderr}`);
  return JSON.parse(json.stdout);
}

/** Published ports as { hostIp, published, target }; v1 prints strings, v2 objects. */
function portsOf(service) {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: String(p.target) };
    }
    const parts = String(p).replace(/\/(tcp|udp)$/, '').split(':');
    const target = parts.pop();
    const published = parts.pop() ?? '';
    return { hostIp: parts.pop() ?? '', published, target };
  });
}

/** Volumes as { source, target, readOnly }; v1 prints "source:target:mode", v2 objects. */
function volumesOf(service) {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'object') return { source: v.source, target: v.target, readOnly: Boolean(v.read_only) };
    const [source, target, mode = 'rw'] = String(v).split(':');
    return { source, target, readOnly: mode.split(',').includes('ro') };
  });
}

/** Environment as an object (compose normalises lists to maps, but be lenient). */
function environmentOf(service) {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return env;
  return Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

const healthcheckText = (service) => [].concat(service.healthcheck?.test ?? []).join(' ');

/**
 * Resolves kickstart replacement variables the way FusionAuth documents them
 * (https://fusionauth.io/docs/get-started/download-and-install/development/kickstart, "Using
 * Variables", "Using Environment Variables", "Referencing Defaults", "Modify the Default Tenant Id"):
 * #{name} from `variables`, #{ENV.NAME}, #{UUID()}, #{FUSIONAUTH_APPLICATION_ID},
 * #{FUSIONAUTH_TENANT_ID}. Anything else is an error: a typo would reach FusionAuth verbatim.
 * Written independently of end2end/provider/kickstart.mjs, so the two cross-check each other.
 */
function resolveKickstart(raw, env) {
  const variables = raw.variables ?? {};
  const cache = new Map();
  const lookup = (name, stack = []) => {
    if (name === 'UUID()') return randomUUID();
    if (name.startsWith('ENV.')) {
      const key = name.slice(4);
      if (!(key in env)) throw new Error(`kickstart: #{ENV.${key}} is not set in the fusionauth service environment`);
      return env[key];
    }
    if (name === 'FUSIONAUTH_APPLICATION_ID') return FUSIONAUTH_APPLICATION_ID;
    if (name === 'FUSIONAUTH_TENANT_ID' && 'defaultTenantId' in variables) return lookup('defaultTenantId', stack);
    if (cache.has(name)) return cache.get(name);
    if (!(name in variables)) throw new Error(`kickstart: unknown variable #{${name}}`);
    if (stack.includes(name)) throw new Error(`kickstart: #{${name}} refers to itself`);
    const value = resolveString(String(variables[name]), [...stack, name]);
    cache.set(name, value);
    return value;
  };
  const resolveString = (s, stack = []) => s.replace(/#\{([^}]+)\}/g, (_, name) => lookup(name.trim(), stack));
  const deep = (v) => {
    if (typeof v === 'string') return resolveString(v);
    if (Array.isArray(v)) return v.map(deep);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]));
    return v;
  };
  return {
    variables: Object.fromEntries(Object.keys(variables).map((k) => [k, lookup(k)])),
    apiKeys: deep(raw.apiKeys ?? []),
    requests: deep(raw.requests ?? []),
  };
}

// ---------------------------------------------------------------------------------------------
// Inputs, read once. A failure here fails the first test that needs the value, with its message.

const kickstartText = fs.readFileSync(KICKSTART_FILE, 'utf8');
const envExample = parseEnvFile(ENV_EXAMPLE_FILE);
let composeError;
let compose;
try {
  compose = loadComposeConfig();
} catch (e) {
  composeError = e;
}
const needCompose = () => {
  if (composeError) throw composeError;
  return compose;
};
const service = (name) => {
  const s = needCompose().services?.[name];
  assert.ok(s, `docker-compose.yml has no service "${name}"`);
  return s;
};

let rawKickstart;
const kickstart = () => {
  rawKickstart ??= JSON.parse(kickstartText);
  // FUSIONAUTH_API_KEY comes from the fusionauth container's environment, as in production.
  const env = compose ? environmentOf(compose.services?.fusionauth ?? {}) : { FUSIONAUTH_API_KEY: 'x'.repeat(40) };
  return resolveKickstart(rawKickstart, env);
};
const requestsMatching = (method, re) => kickstart().requests.filter((r) => r.method === method && re.test(r.url));
const indexOfRequest = (req) => kickstart().requests.findIndex((r) => r.method === req.method && r.url === req.url);
const oneRequest = (method, re, what) => {
  const found = requestsMatching(method, re);
  assert.equal(found.length, 1, `kickstart: expected exactly one ${method} ${re} request (${what}), found ${found.length}`);
  return found[0];
};
const trimSlash = (s) => String(s).replace(/\/+$/, '');
/** The POST /api/application/{id} request of the application `id`. */
const applicationRequest = (id, what) => oneRequest('POST', new RegExp(`^/api/application/${id}$`), what);
/** Field names of FusionAuth's request objects (@fusionauth/typescript-client 1.69.0 interfaces). */
const FIELDS = {
  Webhook: ['connectTimeout', 'data', 'description', 'eventsEnabled', 'global', 'headers', 'httpAuthenticationPassword',
    'httpAuthenticationUsername', 'id', 'insertInstant', 'lastUpdateInstant', 'readTimeout', 'signatureConfiguration',
    'sslCertificate', 'sslCertificateKeyId', 'tenantIds', 'url'],
  Key: ['algorithm', 'certificate', 'certificateInformation', 'expirationInstant', 'hasPrivateKey', 'id', 'insertInstant',
    'issuer', 'kid', 'lastUpdateInstant', 'length', 'name', 'privateKey', 'publicKey', 'secret', 'type'],
  ApplicationRole: ['description', 'id', 'insertInstant', 'isDefault', 'isSuperRole', 'lastUpdateInstant', 'name'],
  EventConfigurationData: ['enabled', 'transactionType'],
  RegistrationRequest: ['user', 'registration', 'skipVerification', 'skipRegistrationVerification', 'sendSetPasswordEmail',
    'generateAuthenticationToken', 'disableDomainBlock', 'verificationIds'],
  UserRequest: ['user', 'applicationId', 'skipVerification', 'sendSetPasswordEmail', 'disableDomainBlock', 'verificationIds'],
};
const assertFieldsOf = (type, object, where) => {
  for (const key of Object.keys(object)) assert.ok(FIELDS[type].includes(key), `${where}: "${key}" is not a field of ${type}`);
};
/**
 * The events the app handles, read from the library's one table of them (HANDLED_EVENTS in
 * crates/leptos-fusionauth/src/server/webhooks/event.rs): the tenant must enable them and the
 * webhook subscribe to them, in its order.
 */
const WEBHOOK_EVENTS = (() => {
  const source = fs.readFileSync(path.join(repoRoot, 'crates/leptos-fusionauth/src/server/webhooks/event.rs'), 'utf8');
  const table = /HANDLED_EVENTS: \[\(&str, Effect\); \d+\] = \[([\s\S]*?)\];/.exec(source);
  assert.ok(table, 'HANDLED_EVENTS not found in the library');
  return [...table[1].matchAll(/\("([a-z.-]+)", Effect::/g)].map((m) => m[1]);
})();

// The values the app side claims (.env.example); everything else must agree with them.
const APP_URL = trimSlash(envExample.APP_URL ?? '');
const ISSUER = trimSlash(envExample.ISSUER ?? '');

// ---------------------------------------------------------------------------------------------
// The kickstart file on its own
// https://fusionauth.io/docs/get-started/download-and-install/development/kickstart

test('kickstart.json is valid JSON with variables, apiKeys and requests', () => {
  const raw = JSON.parse(kickstartText); // throws with the position of a syntax error
  assert.equal(typeof raw.variables, 'object', 'kickstart: "variables" must be an object');
  assert.ok(Array.isArray(raw.apiKeys) && raw.apiKeys.length > 0, 'kickstart: at least one API key is required to run requests');
  assert.ok(Array.isArray(raw.requests) && raw.requests.length > 0, 'kickstart: "requests" must be a non-empty array');
});

test('every kickstart request is a POST, PUT or PATCH to a relative /api/ URL', () => {
  // Kickstart doc, "Adding API Requests": method is POST, PUT or PATCH; url is the relative URL of
  // the API endpoint; optional tenantId, contentType and body.
  const allowedKeys = new Set(['method', 'url', 'tenantId', 'contentType', 'body']);
  for (const [i, r] of JSON.parse(kickstartText).requests.entries()) {
    assert.ok(['POST', 'PUT', 'PATCH'].includes(r.method), `request ${i}: method ${r.method} is not POST, PUT or PATCH`);
    assert.match(r.url, /^\/api\//, `request ${i}: url must start with /api/`);
    for (const key of Object.keys(r)) assert.ok(allowedKeys.has(key), `request ${i}: unknown field "${key}"`);
    if ('body' in r) assert.equal(typeof r.body, 'object', `request ${i}: body must be a JSON object`);
  }
});

test('every #{…} in the kickstart resolves, and the API key comes from FUSIONAUTH_API_KEY', () => {
  const k = kickstart(); // throws on an unknown variable
  const raw = JSON.parse(kickstartText);
  assert.equal(raw.apiKeys[0].key, '#{apiKey}');
  assert.equal(raw.variables.apiKey, '#{ENV.FUSIONAUTH_API_KEY}');
  assert.ok(k.apiKeys[0].key.length >= 32, 'FUSIONAUTH_API_KEY (compose.env) should be a long random value');
  // "Modify the Default Tenant Id": the value must be a valid UUID.
  assert.match(k.variables.defaultTenantId, UUID_RE, 'defaultTenantId must be a UUID');
});

test('the default tenant gets the issuer http://localhost:9011 before anything is signed', () => {
  // https://fusionauth.io/docs/apis/tenants — PATCH /api/tenant/{tenantId}, body { tenant: { issuer } }.
  const patch = oneRequest('PATCH', /^\/api\/tenant\//, 'tenant issuer');
  assert.equal(patch.url, `/api/tenant/${kickstart().variables.defaultTenantId}`);
  assert.equal(patch.body.tenant.issuer, 'http://localhost:9011');
  assert.equal(patch.body.tenant.issuer, ISSUER, 'tenant issuer must equal ISSUER in .env.example');
  // https://fusionauth.io/docs/apis/keys — key.issuer defaults to the default tenant's issuer,
  // so the tenant is patched before the key is generated.
  const key = oneRequest('POST', /^\/api\/key\/generate\//, 'signing key');
  assert.ok(indexOfRequest(patch) < indexOfRequest(key), 'patch the tenant issuer before generating the key');
});

test('the signing key is RS256, 2048 bits, with the fixed key id', () => {
  // https://fusionauth.io/docs/apis/keys — POST /api/key/generate/{keyId}: key.algorithm (RS256, …),
  // key.name (required), key.length (required for RSA: 2048, 3072 or 4096).
  const key = oneRequest('POST', /^\/api\/key\/generate\//, 'signing key');
  const keyId = key.url.split('/')[4];
  assert.match(keyId, UUID_RE);
  assert.equal(keyId, '356a6624-b33c-471a-b707-48bbfcfbc593');
  assert.equal(key.body.key.algorithm, 'RS256');
  assert.equal(Number(key.body.key.length), 2048);
  assert.ok(typeof key.body.key.name === 'string' && key.body.key.name.length > 0, 'key.name is required');
});

test('the application matches the Applications API and the app settings', () => {
  // https://fusionauth.io/docs/apis/applications — POST /api/application/{applicationId}.
  const req = applicationRequest(envExample.CLIENT_ID, 'the OAuth application (CLIENT_ID)');
  const clientId = req.url.split('/')[3];
  assert.match(clientId, UUID_RE);
  assert.equal(clientId, envExample.CLIENT_ID, 'application id (= client id) must equal CLIENT_ID in .env.example');
  const app = req.body.application;
  assert.ok(typeof app.name === 'string' && app.name.length > 0, 'application.name is required');
  if (req.tenantId) assert.equal(req.tenantId, kickstart().variables.defaultTenantId);

  const oauth = app.oauthConfiguration;
  assert.ok(oauth, 'application.oauthConfiguration is missing');
  assert.ok(Array.isArray(oauth.authorizedRedirectURLs), 'oauthConfiguration.authorizedRedirectURLs must be an array');
  assert.ok(oauth.authorizedRedirectURLs.includes(`${APP_URL}/callback`), 'APP_URL/callback must be an authorized redirect URL');
  // https://fusionauth.io/docs/lifecycle/authenticate-users/oauth/endpoints#logout —
  // post_logout_redirect_uri must be an authorized redirect URL.
  assert.ok(oauth.authorizedRedirectURLs.includes(`${APP_URL}/logout`), 'APP_URL/logout must be an authorized redirect URL');
  assert.equal(oauth.logoutURL, `${APP_URL}/logout`);
  assert.equal(oauth.clientSecret, envExample.CLIENT_SECRET, 'clientSecret must equal CLIENT_SECRET in .env.example');
  const grants = ['authorization_code', 'device_code', 'implicit', 'password', 'refresh_token', 'urn:ietf:params:oauth:grant-type:jwt-bearer'];
  for (const g of oauth.enabledGrants) assert.ok(grants.includes(g), `unknown grant ${g}`);
  assert.ok(oauth.enabledGrants.includes('authorization_code'), 'the authorization_code grant must be enabled');
  assert.ok(oauth.enabledGrants.includes('refresh_token'), 'the refresh_token grant must be enabled');
  assert.equal(oauth.generateRefreshTokens, true, 'generateRefreshTokens must be true (offline_access)');
  assert.equal(oauth.requireRegistration, true, 'requireRegistration must be true');
  if ('clientAuthenticationPolicy' in oauth) {
    assert.ok(['Required', 'NotRequired', 'NotRequiredWhenUsingPKCE'].includes(oauth.clientAuthenticationPolicy));
  }
  if ('proofKeyForCodeExchangePolicy' in oauth) {
    assert.ok(['Required', 'NotRequired', 'NotRequiredWhenUsingClientAuthentication'].includes(oauth.proofKeyForCodeExchangePolicy));
  }

  // jwtConfiguration: both tokens signed with the generated key.
  const key = oneRequest('POST', /^\/api\/key\/generate\//, 'signing key');
  const keyId = key.url.split('/')[4];
  const jwt = app.jwtConfiguration;
  assert.equal(jwt.enabled, true, 'jwtConfiguration.enabled must be true, or the tenant key signs the tokens');
  assert.equal(jwt.accessTokenKeyId, keyId);
  assert.equal(jwt.idTokenKeyId, keyId);
  if ('refreshTokenUsagePolicy' in jwt) assert.ok(['Reusable', 'OneTimeUse'].includes(jwt.refreshTokenUsagePolicy));
  assert.ok(indexOfRequest(key) < indexOfRequest(req), 'generate the key before the application refers to it');

  // registrationConfiguration: self-service registration (the Register button, /oauth2/register).
  const reg = app.registrationConfiguration;
  assert.equal(reg?.enabled, true, 'registrationConfiguration.enabled must be true');
  if ('type' in reg) assert.ok(['basic', 'advanced'].includes(reg.type));
  if ('loginIdType' in reg) assert.ok(['email', 'username'].includes(reg.loginIdType));

  // https://fusionauth.io/docs/apis/applications — application.roles[x]: name (required),
  // description, isDefault ("assigned during registration if no roles are provided").
  const roles = app.roles ?? [];
  roles.forEach((role, i) => assertFieldsOf('ApplicationRole', role, `application.roles[${i}]`));
  assert.deepEqual(roles.map((r) => r.name), ['user', 'admin'], 'the application defines the roles user and admin');
  assert.deepEqual(roles.filter((r) => r.isDefault).map((r) => r.name), ['user'], 'user is the only default role');
});

test('a second application, OtherExampleApp, shares the tenant, the key and the settings that matter', () => {
  const vars = kickstart().variables;
  const req = applicationRequest(vars.otherClientId, 'OtherExampleApp');
  assert.match(vars.otherClientId, UUID_RE);
  assert.equal(req.tenantId, vars.defaultTenantId);
  const { name, oauthConfiguration: oauth, jwtConfiguration: jwt } = req.body.application;
  assert.equal(name, 'OtherExampleApp');
  // post_logout_redirect_uri must be an authorized redirect URL (FusionAuth 1.36.5+ answers "The
  // post_logout_redirect_uri is invalid" otherwise, fusionauth-issues#1771): the other app sends
  // its own root after logout.
  assert.deepEqual(oauth.authorizedRedirectURLs, [`${vars.otherAppUrl}/callback`, `${vars.otherAppUrl}/`]);
  assert.equal(oauth.logoutURL, `${vars.otherAppUrl}/logout`);
  assert.equal(oauth.clientSecret, vars.otherClientSecret);
  assert.equal(oauth.proofKeyForCodeExchangePolicy, 'Required');
  assert.equal(oauth.requireRegistration, true);
  assert.deepEqual(oauth.enabledGrants, ['authorization_code', 'refresh_token']);
  assert.equal(oauth.generateRefreshTokens, true);
  assert.deepEqual(jwt, {
    enabled: true, accessTokenKeyId: vars.keyId, idTokenKeyId: vars.keyId, timeToLiveInSeconds: 3600,
    refreshTokenTimeToLiveInMinutes: 43200, refreshTokenUsagePolicy: 'Reusable',
  });
  const key = oneRequest('POST', /^\/api\/key\/generate\//, 'signing key');
  assert.ok(indexOfRequest(key) < indexOfRequest(req), 'generate the key before the application refers to it');
});

test('the tenant sends the webhook events: eventConfiguration.events in the same PATCH as the issuer', () => {
  // https://fusionauth.io/docs/apis/tenants — tenant.eventConfiguration.events[type].enabled and
  // .transactionType (None | Any | SimpleMajority | SuperMajority | AbsoluteMajority).
  const patch = oneRequest('PATCH', /^\/api\/tenant\//, 'tenant issuer and events');
  assert.deepEqual(Object.keys(patch.body.tenant).sort(), ['eventConfiguration', 'issuer']);
  const events = patch.body.tenant.eventConfiguration.events;
  assert.deepEqual(Object.keys(events), WEBHOOK_EVENTS);
  for (const [type, config] of Object.entries(events)) {
    assertFieldsOf('EventConfigurationData', config, `eventConfiguration.events["${type}"]`);
    assert.deepEqual(config, { enabled: true, transactionType: 'None' }, `${type}: enabled, fire and forget`);
  }
});

test('the webhook signing key is an imported HMAC HS256 key holding FUSIONAUTH_WEBHOOK_SECRET', () => {
  // https://fusionauth.io/docs/apis/keys — POST /api/key/import/{keyId}: type HMAC and secret are
  // required for an HMAC key, algorithm HS256|HS384|HS512, name required.
  const vars = kickstart().variables;
  const key = oneRequest('POST', /^\/api\/key\/import\//, 'webhook signing key');
  assert.equal(key.url, `/api/key/import/${vars.webhookKeyId}`);
  assertFieldsOf('Key', key.body.key, 'webhook key');
  const { type, algorithm, name, secret } = key.body.key;
  assert.equal(type, 'HMAC');
  assert.equal(algorithm, 'HS256');
  assert.equal(name, 'LeptosExampleApp webhook signing key');
  assert.equal(JSON.parse(kickstartText).variables.webhookSecret, '#{ENV.FUSIONAUTH_WEBHOOK_SECRET}');
  assert.equal(secret, envExample.FUSIONAUTH_WEBHOOK_SECRET, 'the secret FusionAuth signs with is the one the app verifies with');
  assert.ok(secret.length >= 32, 'FUSIONAUTH_WEBHOOK_SECRET should be a long random value');
});

test('the webhook follows the Webhooks API: signed with that key, for every tenant, the tenant\'s events', () => {
  // https://fusionauth.io/docs/apis/webhooks — url, connectTimeout, readTimeout required; global or
  // tenantIds; eventsEnabled; signatureConfiguration { enabled, signingKeyId } (1.48.0).
  const vars = kickstart().variables;
  const hook = oneRequest('POST', /^\/api\/webhook\//, 'webhook');
  assert.equal(hook.url, `/api/webhook/${vars.webhookId}`);
  const w = hook.body.webhook;
  assertFieldsOf('Webhook', w, 'webhook');
  assert.equal(JSON.parse(kickstartText).variables.webhookUrl, '#{ENV.FUSIONAUTH_WEBHOOK_URL}');
  assert.match(w.url, /^https?:\/\//, 'webhook.url must be a fully qualified URL');
  assert.equal(w.connectTimeout, 1000);
  assert.equal(w.readTimeout, 2000);
  assert.equal(w.global, true, 'without global or tenantIds FusionAuth sends nothing');
  assert.equal(typeof w.description, 'string');
  assert.deepEqual(w.eventsEnabled, Object.fromEntries(WEBHOOK_EVENTS.map((e) => [e, true])));
  assert.deepEqual(w.signatureConfiguration, { enabled: true, signingKeyId: vars.webhookKeyId });
  const key = oneRequest('POST', /^\/api\/key\/import\//, 'webhook signing key');
  assert.ok(indexOfRequest(key) < indexOfRequest(hook), 'import the signing key before the webhook refers to it');
});

test('the test user exists with names and a registration to the application', () => {
  // https://fusionauth.io/docs/apis/registrations — POST /api/user/registration/{userId} creates a
  // user and a registration in one request: { user, registration: { applicationId }, skip… }; with
  // no user it adds a registration to an existing user.
  // https://fusionauth.io/docs/apis/users — user.email, password, firstName, lastName, fullName.
  const regs = requestsMatching('POST', /^\/api\/user\/registration(\/|$)/);
  regs.forEach((r, i) => assertFieldsOf('RegistrationRequest', r.body, `registration request ${i}`));
  const emails = regs.map((r) => r.body.user?.email).filter(Boolean);
  assert.equal(new Set(emails).size, emails.length, 'each user email must be unique');
  const richard = regs.find((r) => r.body.user?.email === TEST_USER.email);
  assert.ok(richard, `kickstart: no user ${TEST_USER.email}`);
  const { user, registration } = richard.body;
  assert.ok(typeof user.password === 'string' && user.password.length > 0, 'the test user needs a password');
  assert.equal(user.firstName, TEST_USER.firstName);
  assert.equal(user.lastName, TEST_USER.lastName);
  assert.equal(user.fullName, `${TEST_USER.firstName} ${TEST_USER.lastName}`);
  assert.equal(registration.applicationId, envExample.CLIENT_ID, 'the test user must be registered to the application');
  assert.deepEqual(registration.roles, ['user']);
  const app = applicationRequest(envExample.CLIENT_ID, 'the OAuth application (CLIENT_ID)');
  assert.ok(indexOfRequest(app) < indexOfRequest(richard), 'create the application before registering users to it');
  const userId = richard.url.split('/')[4];
  if (userId) assert.match(userId, UUID_RE);

  // An administrator for http://localhost:9011/admin: registered to the FusionAuth application with role admin.
  const admin = regs.find((r) => r.body.registration?.applicationId === FUSIONAUTH_APPLICATION_ID);
  assert.ok(admin, 'kickstart: no admin user (registration to #{FUSIONAUTH_APPLICATION_ID})');
  assert.ok(admin.body.registration.roles?.includes('admin'), 'the admin user needs the admin role');
});

test('roles and registrations: Monica is an admin, Gilfoyle is not registered, Richard also uses the other app', () => {
  const vars = kickstart().variables;
  const roleNames = applicationRequest(vars.clientId).body.application.roles.map((r) => r.name);
  const registrations = requestsMatching('POST', /^\/api\/user\/registration\//);
  for (const r of registrations.filter((x) => x.body.registration.applicationId === vars.clientId)) {
    for (const role of r.body.registration.roles ?? []) assert.ok(roleNames.includes(role), `unknown role ${role}`);
  }

  const monica = oneRequest('POST', new RegExp(`^/api/user/registration/${vars.monicaUserId}$`), 'Monica');
  assert.equal(monica.body.user.email, 'monica@example.com');
  assert.equal(monica.body.user.fullName, 'Monica Hall');
  assert.deepEqual(monica.body.registration, { applicationId: vars.clientId, roles: ['user', 'admin'] });

  // https://fusionauth.io/docs/apis/users — POST /api/user/{userId}: { user, skipVerification, … }.
  const gilfoyle = oneRequest('POST', /^\/api\/user\/[^/]+$/, 'Gilfoyle, a user without registrations');
  assert.equal(gilfoyle.url, `/api/user/${vars.gilfoyleUserId}`);
  assertFieldsOf('UserRequest', gilfoyle.body, 'Gilfoyle');
  assert.equal(gilfoyle.body.user.email, 'gilfoyle@example.com');
  assert.equal(gilfoyle.body.applicationId, undefined, 'Gilfoyle is registered to no application');

  const requests = kickstart().requests;
  const richardRegs = requests.map((r, i) => ({ ...r, i })).filter((r) => r.url === `/api/user/registration/${vars.userUserId}`);
  assert.equal(richardRegs.length, 2, 'Richard: created with one registration, then a second one');
  const [first, second] = richardRegs;
  assert.deepEqual(second.body, { registration: { applicationId: vars.otherClientId } }, 'only a registration');
  assert.ok(first.i < second.i, 'the user exists before the second registration');
  assert.ok(indexOfRequest(applicationRequest(vars.otherClientId)) < second.i, 'the application exists before it');
});

// ---------------------------------------------------------------------------------------------
// The compose stack

test('the compose file validates and has its four services', () => {
  const c = needCompose();
  assert.deepEqual(Object.keys(c.services).sort(), ['app', 'app-pod', 'db', 'fusionauth']);
});

test('compose: the app gets the same settings as .env.example and the kickstart', () => {
  const env = environmentOf(service('app'));
  const k = kickstart();
  for (const key of ['CLIENT_ID', 'CLIENT_SECRET', 'ISSUER', 'APP_URL']) {
    assert.ok(env[key], `compose app: ${key} is not set`);
    assert.equal(trimSlash(env[key]), trimSlash(envExample[key]), `compose app ${key} differs from .env.example`);
  }
  assert.equal(env.ISSUER, k.variables.issuer, 'compose ISSUER differs from the kickstart issuer');
  assert.equal(env.CLIENT_ID, k.variables.clientId);
  assert.equal(env.CLIENT_SECRET, k.variables.clientSecret);
  assert.equal(trimSlash(env.APP_URL), trimSlash(k.variables.appUrl));
  assert.ok((env.APP_SECRET_KEY ?? '').length >= 32, 'compose app: APP_SECRET_KEY must have at least 32 characters');
});

test('compose: FusionAuth runs the kickstart from the mounted kickstart directory', () => {
  // https://fusionauth.io/docs/get-started/download-and-install/docker and /docs/reference/configuration
  const fa = service('fusionauth');
  const env = environmentOf(fa);
  assert.match(fa.image, /^fusionauth\/fusionauth-app:\d+\.\d+\.\d+$/, 'pin a FusionAuth version (FUSIONAUTH_APP_VERSION)');
  assert.equal(env.FUSIONAUTH_APP_KICKSTART_FILE, '/usr/local/fusionauth/kickstart/kickstart.json');
  const mount = volumesOf(fa).find((v) => v.target === '/usr/local/fusionauth/kickstart');
  assert.ok(mount, 'mount ./kickstart at /usr/local/fusionauth/kickstart');
  assert.equal(path.resolve(repoRoot, mount.source), path.dirname(KICKSTART_FILE));
  assert.equal(env.FUSIONAUTH_APP_RUNTIME_MODE, 'development');
  assert.equal(env.SEARCH_TYPE, 'database');
  assert.equal(env.FUSIONAUTH_APP_URL, 'http://fusionauth:9011');
  assert.ok(env.FUSIONAUTH_API_KEY, 'FUSIONAUTH_API_KEY must reach FusionAuth (#{ENV.FUSIONAUTH_API_KEY})');
  assert.match(env.DATABASE_URL, /^jdbc:postgresql:\/\/db:5432\//);
  assert.match(healthcheckText(fa), /http:\/\/localhost:9011\/api\/status/);
  assert.equal(fa.depends_on?.db?.condition, 'service_healthy');

  const db = service('db');
  assert.match(db.image, /^postgres:16(\b|$)/);
  assert.match(healthcheckText(db), /pg_isready/);
  assert.ok(volumesOf(db).some((v) => v.target.startsWith('/var/lib/postgresql/data')), 'db needs a volume');
});

test('compose: FusionAuth posts its webhook to the app through app-pod, both sides share the secret', () => {
  const fa = environmentOf(service('fusionauth'));
  const app = environmentOf(service('app'));
  assert.equal(fa.FUSIONAUTH_WEBHOOK_SECRET, envExample.FUSIONAUTH_WEBHOOK_SECRET, 'FusionAuth signs with .env.example\'s secret');
  assert.equal(app.FUSIONAUTH_WEBHOOK_SECRET, fa.FUSIONAUTH_WEBHOOK_SECRET, 'the app verifies with the secret FusionAuth signs with');
  const url = new URL(fa.FUSIONAUTH_WEBHOOK_URL);
  // FusionAuth runs in its own container: "localhost" there is FusionAuth itself. The app listens
  // in app-pod's network namespace, so the compose service name app-pod reaches it.
  assert.equal(url.hostname, 'app-pod');
  assert.ok(needCompose().services['app-pod'], 'the webhook host is a compose service');
  assert.equal(url.port, new URL(envExample.APP_URL).port, 'the app\'s port');
  assert.equal(url.pathname, '/webhooks/fusionauth');
  assert.equal(kickstart().variables.webhookUrl, fa.FUSIONAUTH_WEBHOOK_URL);
});

test('compose: browser and app reach FusionAuth at the same issuer URL', () => {
  const app = service('app');
  const pod = service('app-pod');
  const fa = service('fusionauth');
  const env = environmentOf(app);
  const issuer = new URL(env.ISSUER);
  const appUrl = new URL(env.APP_URL);
  // The issuer is in every token and in the discovery document, so the app cannot use another
  // host name for FusionAuth. It runs in app-pod's network namespace, where socat forwards
  // localhost:<issuer port> to fusionauth:9011; the browser uses the port FusionAuth publishes.
  assert.equal(issuer.hostname, 'localhost');
  assert.equal(app.network_mode, 'service:app-pod', 'the app must run in the app-pod network namespace');
  assert.equal(app.ports, undefined, 'a service with network_mode service:… cannot publish ports');
  const command = [].concat(pod.command ?? []).join(' ');
  assert.match(command, new RegExp(`^socat TCP-LISTEN:${issuer.port},bind=127\\.0\\.0\\.1,fork\\b.* TCP:fusionauth:9011$`),
    `app-pod must forward localhost:${issuer.port} to fusionauth:9011`);
  assert.equal(pod.build?.target, 'app-pod');
  assert.equal(app.build?.target, 'runtime');
  const published = (svc, port) => portsOf(svc).find((p) => p.target === String(port))?.published;
  assert.equal(published(fa, 9011), issuer.port, `publish FusionAuth's 9011 on the issuer's port ${issuer.port}`);
  assert.equal(published(pod, appUrl.port), appUrl.port, `app-pod must publish the app's port ${appUrl.port}`);
  assert.equal(published(fa, appUrl.port), undefined, 'the app port must not be tied to the fusionauth service');
  assert.equal(app.depends_on?.fusionauth?.condition, 'service_healthy');
  assert.ok(app.depends_on?.['app-pod'], 'the app depends on app-pod');
  assert.equal(pod.depends_on, undefined, 'app-pod must not pull in FusionAuth (socat resolves it per connection)');
  assert.ok(volumesOf(app).some((v) => v.target === '/app/data'), 'sessions live in a volume at /app/data');
});

test('compose: KICKSTART_DIR mounts another kickstart directory (default ./kickstart)', () => {
  const fa = needCompose().services.fusionauth;
  assert.equal(path.resolve(repoRoot, volumesOf(fa).find((v) => v.target === '/usr/local/fusionauth/kickstart').source), at('kickstart'));
  const bootstrap = loadComposeConfig({ KICKSTART_DIR: './kickstart/bootstrap' });
  const mount = volumesOf(bootstrap.services.fusionauth).find((v) => v.target === '/usr/local/fusionauth/kickstart');
  assert.equal(path.resolve(repoRoot, mount.source), path.dirname(BOOTSTRAP_KICKSTART_FILE));
  assert.ok(mount.readOnly);
});

test('the bootstrap kickstart only makes the API key and the unregistered test user', () => {
  // What FusionAuth looks like after its setup wizard: an API key and a user, no issuer, no key,
  // no application, no registration. Same API key variable as the main kickstart.
  const raw = JSON.parse(fs.readFileSync(BOOTSTRAP_KICKSTART_FILE, 'utf8'));
  const env = compose ? environmentOf(compose.services.fusionauth) : { FUSIONAUTH_API_KEY: 'x'.repeat(40) };
  const k = resolveKickstart(raw, env);
  assert.equal(raw.apiKeys.length, 1);
  assert.equal(raw.variables[raw.apiKeys[0].key.replace(/^#\{|\}$/g, '')], '#{ENV.FUSIONAUTH_API_KEY}');
  assert.equal(k.apiKeys[0].key, env.FUSIONAUTH_API_KEY);
  assert.deepEqual(k.requests.map((r) => `${r.method} ${r.url}`), ['POST /api/user']);
  const { user, ...rest } = k.requests[0].body;
  assert.deepEqual(rest, { skipVerification: true });
  assert.equal(user.email, TEST_USER.email);
  assert.equal(user.firstName, TEST_USER.firstName);
  assert.equal(user.lastName, TEST_USER.lastName);
  assert.equal(user.fullName, undefined, 'setup sets the full name, as in the tutorial');
  assert.equal(user.registrations, undefined, 'setup registers the user');
  const richard = kickstart().requests.find((r) => r.body?.user?.email === TEST_USER.email);
  assert.equal(user.password, richard.body.user.password, 'the same password as the main kickstart (the suite logs in with it)');
});

test('@fusionauth/typescript-client is pinned to the FusionAuth version in compose.env', () => {
  // end2end/contract/ checks every request body against this client's types, so it must describe
  // the FusionAuth that docker-compose.yml runs. npm has no client for some FusionAuth releases
  // (none for 1.66-1.68): move compose.env to a release that has one.
  const version = parseEnvFile(COMPOSE_ENV_FILE).FUSIONAUTH_APP_VERSION;
  const pkg = JSON.parse(fs.readFileSync(at('end2end', 'package.json'), 'utf8'));
  const pin = pkg.devDependencies?.['@fusionauth/typescript-client'];
  assert.equal(pin, version, `end2end/package.json pins @fusionauth/typescript-client ${pin}, compose.env runs FusionAuth ${version}`);
  const lock = JSON.parse(fs.readFileSync(at('end2end', 'package-lock.json'), 'utf8'));
  assert.equal(lock.packages?.['node_modules/@fusionauth/typescript-client']?.version, version, 'package-lock.json: run npm install in end2end/');
});

// ---------------------------------------------------------------------------------------------
// The stand-in provider reads the same kickstart file

test('the stand-in provider loads the same applications, key, issuer, users and webhook', () => {
  const apiKeyEnv = { FUSIONAUTH_API_KEY: compose ? environmentOf(compose.services.fusionauth).FUSIONAUTH_API_KEY : 'x' };
  const standin = loadKickstart(KICKSTART_FILE, apiKeyEnv);
  const k = kickstart();
  assert.equal(standin.issuer, ISSUER);
  assert.equal(standin.keyId, k.variables.keyId);
  assert.equal(standin.tenantId, k.variables.defaultTenantId);
  assert.deepEqual(standin.applications.map((a) => a.clientId), [envExample.CLIENT_ID, k.variables.otherClientId]);
  const a = standin.applications[0];
  assert.equal(a.clientSecret, envExample.CLIENT_SECRET);
  assert.ok(a.redirectUris.includes(`${APP_URL}/callback`));
  assert.ok(a.redirectUris.includes(`${APP_URL}/logout`));
  assert.equal(a.logoutUrl, `${APP_URL}/logout`);
  assert.ok(a.enabledGrants.includes('authorization_code') && a.enabledGrants.includes('refresh_token'));
  assert.equal(a.generateRefreshTokens, true);
  assert.equal(a.requireRegistration, true);
  assert.equal(a.registrationEnabled, true);
  assert.deepEqual(a.roles.map((r) => r.name), ['user', 'admin']);
  assert.equal(standin.applications[1].logoutUrl, `${k.variables.otherAppUrl}/logout`);

  const richard = standin.users.find((u) => u.email === TEST_USER.email);
  assert.ok(richard, `the stand-in has no ${TEST_USER.email}`);
  assert.equal(richard.firstName, TEST_USER.firstName);
  assert.equal(richard.lastName, TEST_USER.lastName);
  assert.equal(richard.fullName, `${TEST_USER.firstName} ${TEST_USER.lastName}`);
  assert.deepEqual(richard.registrations.map((r) => [r.applicationId, r.roles]), [[a.clientId, ['user']], [k.variables.otherClientId, []]]);
  const kickstartRichard = k.requests.find((r) => r.body?.user?.email === TEST_USER.email);
  assert.equal(richard.password, kickstartRichard.body.user.password);
  assert.deepEqual(
    standin.users.map((u) => u.email).sort(),
    k.requests.filter((r) => /^\/api\/user\//.test(r.url) && r.body.user).map((r) => r.body.user.email).sort(),
    'the stand-in must know exactly the kickstart users',
  );

  // The stand-in signs its webhooks like FusionAuth: the same secret, the same events.
  const [hook] = standin.webhooks;
  assert.equal(standin.webhooks.length, 1);
  assert.equal(hook.signingKey.secret, envExample.FUSIONAUTH_WEBHOOK_SECRET);
  assert.deepEqual(Object.keys(hook.eventsEnabled), WEBHOOK_EVENTS);
  assert.deepEqual(Object.keys(standin.tenantEvents), WEBHOOK_EVENTS);
  // FUSIONAUTH_WEBHOOK_URL is compose's (FusionAuth's container); unset, the stand-in posts to the app itself.
  assert.equal(hook.url, `${APP_URL}/webhooks/fusionauth`);
});

// ---------------------------------------------------------------------------------------------
// The app image

test('the Dockerfile pins the toolchain of scripts/setup-toolchain.sh and serves the APP_URL port', () => {
  const dockerfile = fs.readFileSync(at('Dockerfile'), 'utf8');
  const setup = fs.readFileSync(at('scripts', 'setup-toolchain.sh'), 'utf8');
  const arg = (name) => new RegExp(`^ARG ${name}=(\\S+)`, 'm').exec(dockerfile)?.[1];
  const pinned = (name) => new RegExp(`^${name}=(\\S+)`, 'm').exec(setup)?.[1];
  for (const name of ['CARGO_LEPTOS_VERSION', 'BINARYEN_VERSION']) {
    assert.ok(arg(name), `Dockerfile: ARG ${name} is missing`);
    assert.equal(arg(name), pinned(name), `Dockerfile ${name} differs from scripts/setup-toolchain.sh`);
  }
  assert.match(dockerfile, /wasm-bindgen-cli --version "\$version"/, 'wasm-bindgen-cli must follow Cargo.lock');
  const appPort = new URL(envExample.APP_URL).port;
  assert.match(dockerfile, new RegExp(`LEPTOS_SITE_ADDR=0\\.0\\.0\\.0:${appPort}\\b`));
  assert.match(dockerfile, new RegExp(`^EXPOSE ${appPort}$`, 'm'));
  assert.match(dockerfile, /SESSION_DATABASE_URL=sqlite:\/\/\/app\/data\//);
  // docker-compose.yml builds the `app-pod` and `runtime` stages; `runtime` is last, so a plain
  // `docker build .` produces the app image.
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  assert.ok(stages.includes('app-pod'), 'Dockerfile: stage app-pod is missing');
  assert.equal(stages.at(-1), 'runtime', 'Dockerfile: the last stage must be runtime');
});
