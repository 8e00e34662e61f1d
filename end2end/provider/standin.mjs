// A stand-in for FusionAuth's OpenID Connect endpoints, built on oidc-provider (v8): startStandIn()
// reads the kickstart, builds the provider and opens the provider and control ports.
// See README.md in this directory for what it reproduces, where it differs and which file owns what.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

import Provider from 'oidc-provider';

import { issueJwtAccessTokens } from './access-token.mjs';
import { UserAdmin } from './admin.mjs';
import { Applications } from './applications.mjs';
import { addFusionAuthIdTokenClaims } from './claims.mjs';
import { controlHandler } from './control.mjs';
import { RefreshExchangeLedger, TokenDelay } from './faults.mjs';
import { LoopbackListener } from './http.mjs';
import { loadOrCreateKeys, publicKid, rotateKeys } from './keys.mjs';
import { loadKickstart } from './kickstart.mjs';
import { oidcConfiguration, refreshTokenIssuer } from './oidc-config.mjs';
import { RefreshTokenLedger, recordRefreshTokens } from './refresh-tokens.mjs';
import { fusionAuthRoutes } from './routes/fusionauth.mjs';
import { MemoryStore, memoryAdapter } from './store.mjs';
import { UserDirectory } from './users.mjs';
import { Webhooks } from './webhooks.mjs';

/** Ports, issuer, files and kickstart variable overrides of startStandIn()'s options, with their defaults. */
function settingsOf(options) {
  const here = import.meta.dirname ?? new URL('.', import.meta.url).pathname;
  const port = Number(options.port ?? 9011);
  const dataDir = resolve(options.dataDir ?? resolve(here, '.data'));
  const variables = typeof options.kickstartVariables === 'string'
    ? JSON.parse(options.kickstartVariables) : options.kickstartVariables;
  return {
    port,
    controlPort: Number(options.controlPort ?? 9012),
    issuer: options.issuer ?? `http://localhost:${port}`,
    kickstartFile: resolve(options.kickstartFile ?? resolve(here, '../../kickstart/kickstart.json')),
    keysFile: resolve(dataDir, 'keys.json'),
    variables,
  };
}

/**
 * What the FusionAuth instance being imitated holds, from the kickstart: issuer, tenant,
 * applications, users, refresh tokens and webhooks; plus where oidc-provider keeps its state and
 * the request being served (`requestContext`, for what runs inside oidc-provider's models).
 */
function instanceOf(kickstart, { issuer, accessTokenTtlSecs }) {
  const store = new MemoryStore();
  const applications = new Applications(kickstart.applications);
  return {
    issuer,
    tenantId: kickstart.tenantId,
    applications,
    users: new UserDirectory(kickstart.users),
    accessTokenTtlSecs: accessTokenTtlSecs === undefined ? undefined : Number(accessTokenTtlSecs),
    store,
    adapter: memoryAdapter(store),
    refreshTokens: new RefreshTokenLedger(store, kickstart.tenantId),
    issuesRefreshToken: refreshTokenIssuer(applications),
    webhooks: new Webhooks(kickstart),
    cookieKeys: [randomBytes(32).toString('base64url')],
    requestContext: new AsyncLocalStorage(),
    // test-only faults and bookkeeping (faults.mjs): the control port's /token-delay and /refresh-token-exchanges
    tokenDelay: new TokenDelay(),
    refreshExchanges: new RefreshExchangeLedger(),
  };
}

/** A Provider for `instance` signing with `keys`, behind the FusionAuth-shaped routes. */
function buildProvider(instance, keys, admin) {
  const provider = new Provider(instance.issuer, oidcConfiguration(instance, keys));
  addFusionAuthIdTokenClaims(provider, instance.tenantId);
  issueJwtAccessTokens(provider, instance, keys[0]);
  recordRefreshTokens(provider, instance.refreshTokens, instance.requestContext);
  provider.on('server_error', (ctx, err) => {
    console.error(`stand-in provider: server error on ${ctx.method} ${ctx.path}:`, err);
  });
  const routes = fusionAuthRoutes(instance, admin);
  provider.use((ctx, next) => instance.requestContext.run(ctx, () => routes(provider, ctx, next)));
  return provider;
}

/** The control port's view of the running stand-in. */
function controlsOf({ instance, admin, main, serving, keysFile, settings, keysRef }) {
  const { issuer, port, controlPort } = settings;
  return {
    instance,
    admin,
    state: () => ({ issuer, port, controlPort, listening: main.listening, kid: publicKid(keysRef.keys) }),
    async rotate() {
      const previousKid = publicKid(keysRef.keys);
      keysRef.keys = rotateKeys(keysFile);
      serving.callback = buildProvider(instance, keysRef.keys, admin).callback();
      return { previousKid, kid: publicKid(keysRef.keys) };
    },
    stop: () => main.close(),
    start: () => main.open(),
  };
}

/**
 * Starts the stand-in. Options (all optional):
 *   port (9011), controlPort (9012), issuer (http://localhost:<port>), kickstartFile, dataDir,
 *   kickstartVariables (object or JSON text merged over the kickstart's variables),
 *   accessTokenTtlSecs (defaults to each application's jwtConfiguration.timeToLiveInSeconds).
 */
export async function startStandIn(options = {}) {
  const settings = settingsOf(options);
  const kickstart = loadKickstart(settings.kickstartFile, process.env, { variables: settings.variables });
  const instance = instanceOf(kickstart, { issuer: settings.issuer, accessTokenTtlSecs: options.accessTokenTtlSecs });
  const sweeper = setInterval(() => instance.store.sweep(), 60_000);
  sweeper.unref();
  const admin = new UserAdmin(instance);
  const keysRef = { keys: loadOrCreateKeys(settings.keysFile, kickstart.keyId) };

  // The provider currently serving (rebuilt on key rotation), behind the token endpoint's test delay.
  const serving = { callback: buildProvider(instance, keysRef.keys, admin).callback() };
  const main = new LoopbackListener(settings.port, instance.tokenDelay.wrap(() => serving.callback));
  await main.open();
  const controls = controlsOf({
    instance, admin, main, serving, keysFile: settings.keysFile, settings, keysRef,
  });
  const control = new LoopbackListener(settings.controlPort, controlHandler(controls));
  try {
    await control.open();
  } catch (err) {
    await main.close();
    throw err;
  }

  return {
    issuer: settings.issuer,
    controlUrl: `http://127.0.0.1:${settings.controlPort}`,
    get kid() { return publicKid(keysRef.keys); },
    rotate: controls.rotate,
    stop: controls.stop,
    start: controls.start,
    async close() {
      clearInterval(sweeper);
      await main.close();
      await control.close();
    },
  };
}
