// A stand-in for FusionAuth's OpenID Connect endpoints, built on oidc-provider (v8): startStandIn()
// reads the kickstart, builds the provider and opens the provider and control ports.
// See README.md in this directory for what it reproduces, where it differs and which file owns what.
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';

import Provider from 'oidc-provider';

import { addFusionAuthIdTokenClaims } from './claims.mjs';
import { controlHandler } from './control.mjs';
import { LoopbackListener } from './http.mjs';
import { loadOrCreateKeys, publicKid, rotateKeys } from './keys.mjs';
import { loadKickstart } from './kickstart.mjs';
import { oidcConfiguration } from './oidc-config.mjs';
import { fusionAuthRoutes } from './routes/fusionauth.mjs';
import { MemoryStore, memoryAdapter } from './store.mjs';
import { UserDirectory } from './users.mjs';

/** Ports, issuer and files of startStandIn()'s options, with their defaults. */
function settingsOf(options) {
  const here = import.meta.dirname ?? new URL('.', import.meta.url).pathname;
  const port = Number(options.port ?? 9011);
  const dataDir = resolve(options.dataDir ?? resolve(here, '.data'));
  return {
    port,
    controlPort: Number(options.controlPort ?? 9012),
    issuer: options.issuer ?? `http://localhost:${port}`,
    kickstartFile: resolve(options.kickstartFile ?? resolve(here, '../../kickstart/kickstart.json')),
    keysFile: resolve(dataDir, 'keys.json'),
  };
}

/**
 * What the FusionAuth instance being imitated holds, from the kickstart: issuer, tenant, the one
 * application (OAuth client) and the users; plus where oidc-provider keeps its state.
 */
function instanceOf(kickstart, { issuer, accessTokenTtlSecs, store }) {
  const application = kickstart.application;
  return {
    issuer,
    tenantId: kickstart.tenantId ?? randomUUID(),
    application,
    users: new UserDirectory(kickstart.users),
    accessTokenTtlSecs: Number(accessTokenTtlSecs ?? application.accessTokenTtlSecs ?? 3600),
    adapter: memoryAdapter(store),
    cookieKeys: [randomBytes(32).toString('base64url')],
  };
}

/** A Provider for `instance` signing with `keys`, behind the FusionAuth-shaped routes. */
function buildProvider(instance, keys) {
  const provider = new Provider(instance.issuer, oidcConfiguration(instance, keys));
  addFusionAuthIdTokenClaims(provider, instance.tenantId);
  provider.on('server_error', (ctx, err) => {
    console.error(`stand-in provider: server error on ${ctx.method} ${ctx.path}:`, err);
  });
  const routes = fusionAuthRoutes(instance);
  provider.use(async (ctx, next) => routes(provider, ctx, next));
  return provider;
}

/**
 * Starts the stand-in. Options (all optional):
 *   port (9011), controlPort (9012), issuer (http://localhost:<port>), kickstartFile, dataDir,
 *   accessTokenTtlSecs (defaults to the application's jwtConfiguration.timeToLiveInSeconds).
 */
export async function startStandIn(options = {}) {
  const { port, controlPort, issuer, kickstartFile, keysFile } = settingsOf(options);
  const kickstart = loadKickstart(kickstartFile);
  const store = new MemoryStore();
  const sweeper = setInterval(() => store.sweep(), 60_000);
  sweeper.unref();
  const instance = instanceOf(kickstart, { issuer, accessTokenTtlSecs: options.accessTokenTtlSecs, store });
  let keys = loadOrCreateKeys(keysFile, kickstart.keyId);

  const main = new LoopbackListener(port, buildProvider(instance, keys).callback());
  await main.open();

  const controls = {
    state: () => ({ issuer, port, controlPort, listening: main.listening, kid: publicKid(keys) }),
    async rotate() {
      const previousKid = publicKid(keys);
      keys = rotateKeys(keysFile);
      main.handler = buildProvider(instance, keys).callback();
      return { previousKid, kid: publicKid(keys) };
    },
    stop: () => main.close(),
    start: () => main.open(),
  };
  const control = new LoopbackListener(controlPort, controlHandler(controls));
  try {
    await control.open();
  } catch (err) {
    await main.close();
    throw err;
  }

  return {
    issuer,
    controlUrl: `http://127.0.0.1:${controlPort}`,
    get kid() { return publicKid(keys); },
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
