// The FusionAuth-shaped layer in front of oidc-provider: the routes FusionAuth has and
// oidc-provider does not (answered here), request rewrites and the login form POST before
// oidc-provider sees a request, and what FusionAuth answers differently afterwards (the login form
// in the authorize response itself, the authorization redirect's extra fields, the token response).
import { askConsentForOfflineAccess } from '../consent.mjs';
import { messagePage } from '../views.mjs';
import { apiLogoutRoute, apiStatus } from './api.mjs';
import { completeAuthorizationResponse } from './authorize.mjs';
import { handleFormPost, registerViaAuthorize, renderInteractionInPlace } from './interaction.mjs';
import { logoutRoute } from './logout.mjs';
import { completeTokenResponse, recordRefreshExchange } from './token.mjs';

/** Routes answered without oidc-provider, by "METHOD path": handler(provider, ctx). */
function ownRoutes(instance, admin) {
  const logout = logoutRoute(instance);
  return new Map([
    ['GET /', async (provider, ctx) => {
      ctx.type = 'html';
      ctx.body = messagePage('FusionAuth stand-in', `Issuer ${instance.issuer}. Nothing to see here.`);
    }],
    ['GET /api/status', apiStatus],
    ['POST /api/logout', apiLogoutRoute(admin)],
    ['GET /oauth2/logout', logout],
    ['POST /oauth2/logout', logout],
  ]);
}

/**
 * The middleware, as (provider, ctx, next): the provider is the one currently serving (it changes
 * on key rotation). `admin` is the stand-in's UserAdmin (the Logout API uses it).
 */
export function fusionAuthRoutes(instance, admin) {
  const own = ownRoutes(instance, admin);
  return async function fusionAuthShaped(provider, ctx, next) {
    const ownRoute = own.get(`${ctx.method} ${ctx.path}`);
    if (ownRoute) return ownRoute(provider, ctx);
    if (await handleFormPost(instance, provider, ctx)) return undefined;

    if (ctx.path === '/oauth2/register' && ctx.method === 'GET') registerViaAuthorize(ctx);
    if (ctx.path === '/oauth2/authorize' && ctx.method === 'GET') askConsentForOfflineAccess(ctx);

    const startedAt = Date.now();
    await next();

    await renderInteractionInPlace(instance, provider, ctx);
    completeAuthorizationResponse(instance, ctx);
    completeTokenResponse(instance, ctx);
    recordRefreshExchange(instance, ctx, startedAt);
    return undefined;
  };
}
