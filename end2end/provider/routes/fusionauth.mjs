// The FusionAuth-shaped layer in front of oidc-provider: the routes FusionAuth has and
// oidc-provider does not (answered here), request rewrites before oidc-provider sees a request,
// and the fields FusionAuth adds to oidc-provider's responses.
import { askConsentForOfflineAccess } from '../consent.mjs';
import { appendParams } from '../http.mjs';
import { messagePage } from '../views.mjs';
import { interactionRoute, matchInteraction, registerViaAuthorize } from './interaction.mjs';
import { logoutRoute } from './logout.mjs';

/** Routes answered without oidc-provider, by "METHOD path": handler(provider, ctx). FusionAuth's /api/* goes here. */
function ownRoutes(instance) {
  const logout = logoutRoute(instance);
  return new Map([
    ['GET /', async (provider, ctx) => {
      ctx.type = 'html';
      ctx.body = messagePage('FusionAuth stand-in', `Issuer ${instance.issuer}. Nothing to see here.`);
    }],
    ['GET /api/status', async (provider, ctx) => { ctx.body = { status: 'ok' }; }],
    ['GET /oauth2/logout', logout],
    ['POST /oauth2/logout', logout],
  ]);
}

/** FusionAuth adds locale and userState to the authorization response. */
function addAuthorizationResponseFields(ctx, application) {
  if (ctx.status !== 303 && ctx.status !== 302) return;
  const location = ctx.response.get('Location');
  if (location && application.redirectUris.some((u) => location.startsWith(`${u}?`))
      && new URL(location).searchParams.has('code')) {
    ctx.set('Location', appendParams(location, { locale: 'en', userState: 'Authenticated' }));
  }
}

/** FusionAuth's token response also names the user. */
function addTokenResponseUserId(ctx) {
  if (ctx.path === '/oauth2/token' && ctx.status === 200 && ctx.body?.access_token) {
    const accountId = ctx.oidc?.entities?.Account?.accountId;
    if (accountId) ctx.body = { ...ctx.body, userId: accountId };
  }
}

/** The middleware, as (provider, ctx, next): the provider is the one currently serving (it changes on key rotation). */
export function fusionAuthRoutes(instance) {
  const own = ownRoutes(instance);
  const interaction = interactionRoute(instance);
  return async function fusionAuthShaped(provider, ctx, next) {
    const ownRoute = own.get(`${ctx.method} ${ctx.path}`);
    if (ownRoute) return ownRoute(provider, ctx);

    if (ctx.path === '/oauth2/register' && ctx.method === 'GET') registerViaAuthorize(ctx);
    if (ctx.path === '/oauth2/authorize' && ctx.method === 'GET') askConsentForOfflineAccess(ctx);
    const pending = matchInteraction(ctx.path);
    if (pending) return interaction(provider, ctx, pending.uid, pending.action);

    await next();

    addAuthorizationResponseFields(ctx, instance.application);
    addTokenResponseUserId(ctx);
    return undefined;
  };
}
