// GET and POST /oauth2/logout as FusionAuth answers them: end the browser's SSO session (tokens
// already issued stay valid) and redirect to where the application wants its users after logout.
import { LONG_COOKIE, SESSION_COOKIE } from '../cookies.mjs';
import { appendParams, readForm } from '../http.mjs';

function decodeJwtPayload(jwt) {
  try {
    return JSON.parse(Buffer.from(String(jwt).split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

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
function logoutTarget(application, clientId, params) {
  const known = clientId === application.clientId;
  let target = '/';
  if (known && params.post_logout_redirect_uri && application.redirectUris.includes(params.post_logout_redirect_uri)) {
    target = params.post_logout_redirect_uri;
  } else if (known && application.logoutUrl) {
    target = application.logoutUrl;
  }
  if (params.state && target !== '/') target = appendParams(target, { state: params.state });
  return target;
}

/** The handler of /oauth2/logout: (provider, ctx). */
export function logoutRoute(instance) {
  return async function logout(provider, ctx) {
    const params = ctx.method === 'POST' ? await readForm(ctx.req) : { ...ctx.query };
    const clientId = clientIdOf(params);
    await endSsoSession(provider, ctx);
    // FusionAuth renders a page here that loads every application's logoutURL in hidden iframes
    // and then redirects; the stand-in redirects at once (README.md, "Where it differs").
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 302;
    ctx.redirect(logoutTarget(instance.application, clientId, params));
    return undefined;
  };
}
