// FusionAuth's /api/* routes the stand-in has: GET /api/status and POST /api/logout (the Logout
// API: no API key; refreshToken and global in a JSON body, or as query parameters, which is how
// FusionAuth's own client library sends them). Both answer as FusionAuth does.
import { readJson } from '../http.mjs';

/** The parameters of a Logout API request: query parameters, then a JSON body over them. */
async function logoutParams(ctx) {
  const body = ctx.is('application/json') ? await readJson(ctx.req) : {};
  const params = { ...ctx.query, ...body };
  return {
    refreshToken: typeof params.refreshToken === 'string' ? params.refreshToken : undefined,
    global: params.global === true || params.global === 'true',
  };
}

/**
 * POST /api/logout: revokes the refresh token (with global, all of its owner's and the owner's SSO
 * sessions) and sends jwt.refresh-token.revoke without waiting for the webhooks. Always 200 with
 * no body: FusionAuth documents only 200 and 500, and does nothing without a refresh token; an
 * unknown or already revoked token changes nothing here either.
 */
export function apiLogoutRoute(admin) {
  return async function apiLogout(provider, ctx) {
    let params;
    try {
      params = await logoutParams(ctx);
    } catch (err) {
      ctx.status = err.status ?? 400;
      ctx.body = { generalErrors: [{ code: '[invalidJSON]', message: err.message }] };
      return;
    }
    if (params.refreshToken) admin.logout(params.refreshToken, { global: params.global });
    ctx.set('Cache-Control', 'no-store');
    ctx.body = '';
    ctx.status = 200;
  };
}

/** GET /api/status. */
export async function apiStatus(provider, ctx) {
  ctx.body = { status: 'ok' };
}
