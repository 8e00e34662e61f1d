// GET and POST /oauth2/logout as FusionAuth answers them: end the browser's SSO session (tokens
// already issued stay valid), then, with the application's logoutBehavior AllApplications (the
// default), render FusionAuth's logout page: every application's logoutURL in a hidden iframe and
// a Refresh after 2 seconds to where the application wants its users after logout, so an
// application's /logout is hit twice (iframe, then redirect). RedirectOnly redirects at once.
import { decodeJwtPayload } from '../access-token.mjs';
import { LONG_COOKIE, SESSION_COOKIE } from '../cookies.mjs';
import { appendParams, readForm } from '../http.mjs';
import { logoutPage } from '../views.mjs';

/** The client a logout is for: client_id, else the audience of id_token_hint. */
function clientIdOf(params) {
  if (params.client_id || !params.id_token_hint) return params.client_id;
  const aud = decodeJwtPayload(params.id_token_hint)?.aud;
  return Array.isArray(aud) ? aud[0] : aud;
}

/** Ends the SSO session of this browser and clears its cookie. */
export async function endSsoSession(provider, ctx) {
  const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (sessionId) {
    const session = await provider.Session.find(sessionId);
    if (session) await session.destroy();
  }
  ctx.cookies.set(SESSION_COOKIE, null, { ...LONG_COOKIE, path: '/' });
}

/**
 * post_logout_redirect_uri if it is an authorized redirect URL of the application, else its
 * logoutURL, else `/`; with `state` appended.
 */
function logoutTarget(application, params) {
  let target = '/';
  if (application && params.post_logout_redirect_uri && application.redirectUris.includes(params.post_logout_redirect_uri)) {
    target = params.post_logout_redirect_uri;
  } else if (application?.logoutUrl) {
    target = application.logoutUrl;
  }
  if (params.state && target !== '/') target = appendParams(target, { state: params.state });
  return target;
}

/** The handler of /oauth2/logout: (provider, ctx). */
export function logoutRoute(instance) {
  return async function logout(provider, ctx) {
    const params = ctx.method === 'POST' ? await readForm(ctx.req) : { ...ctx.query };
    const application = instance.applications.byId(clientIdOf(params));
    await endSsoSession(provider, ctx);
    const target = logoutTarget(application, params);
    ctx.set('Cache-Control', 'no-store');
    if (application?.logoutBehavior === 'RedirectOnly') {
      ctx.status = 302;
      ctx.redirect(target);
      return;
    }
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = logoutPage({ redirectUrl: target, logoutUrls: instance.applications.allLogoutUrls() });
  };
}
