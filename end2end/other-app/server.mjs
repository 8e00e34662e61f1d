#!/usr/bin/env node
// A second application of the tenant for the browser tests ("OtherExampleApp" of the kickstart),
// run with `npm run other-app` in end2end/. It signs in with the authorization code flow and PKCE
// against ISSUER (the stand-in or a real FusionAuth: documented endpoints only, see oidc.mjs),
// keeps the tokens on the server, and logs out three ways:
//   Logout               RP-initiated logout at /oauth2/logout (client_id, post_logout_redirect_uri <url>/)
//   Logout everywhere    POST /api/logout with its refresh token and global: true, then the same
//   GET /logout          its front-channel logout URL (FusionAuth's logout page frames it):
//                        clears this browser's session; idempotent; may be framed
//
// Environment: ISSUER (default: the kickstart's issuer), OTHER_APP_PORT (default: the port of the
// kickstart's otherAppUrl), KICKSTART_FILE, KICKSTART_VARIABLES (as for the stand-in).
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';

import { closeServers, listenLoopback, readForm } from '../provider/http.mjs';
import { kickstartVariables } from '../provider/kickstart.mjs';
import { esc } from '../provider/views.mjs';
import { OidcClient } from './oidc.mjs';

const SESSION_COOKIE = 'other_app_session';
const LOGIN_COOKIE = 'other_app_login';

/** This app's settings: the kickstart's other application, ISSUER, the port. */
function settingsOf(env) {
  const here = import.meta.dirname;
  const file = resolve(env.KICKSTART_FILE || resolve(here, '../../kickstart/kickstart.json'));
  const vars = kickstartVariables(file, env, { variables: env.KICKSTART_VARIABLES ? JSON.parse(env.KICKSTART_VARIABLES) : undefined });
  const url = vars.otherAppUrl.replace(/\/+$/, '');
  return {
    url,
    port: Number(env.OTHER_APP_PORT || new URL(url).port || 80),
    issuer: (env.ISSUER || vars.issuer).replace(/\/+$/, ''),
    clientId: vars.otherClientId,
    clientSecret: vars.otherClientSecret,
  };
}

function cookiesOf(req) {
  return Object.fromEntries(String(req.headers.cookie ?? '').split(';').map((c) => c.trim().split('='))
    .filter(([name]) => name).map(([name, ...value]) => [name, value.join('=')]));
}

const cookie = (name, value, maxAge) => `${name}=${value}; Path=/; HttpOnly; SameSite=Lax${maxAge === 0 ? '; Max-Age=0' : ''}`;

function send(res, status, html, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(html);
}

const redirect = (res, location, headers = {}) => {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...headers });
  res.end();
};

function page(title, body) {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body>\n${body}\n</body></html>\n`;
}

function homePage(session) {
  const button = (action, label) => `<form method="POST" action="${action}"><button type="submit">${label}</button></form>`;
  if (!session) return page('Other app', `<h1>Other app: guest</h1>\n${button('/login', 'Login')}`);
  return page('Other app', `<h1>Other app: signed in as ${esc(session.email)}</h1>
${button('/logout', 'Logout')}
${button('/logout-everywhere', 'Logout everywhere')}`);
}

/** The app: its routes over in-memory sessions and pending logins. */
function otherApp(settings) {
  const oidc = new OidcClient({ ...settings, redirectUri: `${settings.url}/callback` });
  const sessions = new Map();
  const pendingLogins = new Map();
  const sessionOf = (req) => sessions.get(cookiesOf(req)[SESSION_COOKIE]);
  const endSession = (req) => {
    const session = sessionOf(req);
    sessions.delete(cookiesOf(req)[SESSION_COOKIE]);
    return session;
  };

  async function callback(req, res, query) {
    const pending = pendingLogins.get(cookiesOf(req)[LOGIN_COOKIE]);
    pendingLogins.delete(cookiesOf(req)[LOGIN_COOKIE]);
    if (query.get('error')) return send(res, 400, page('Other app', `<h1>Other app: login failed</h1><p>${esc(query.get('error'))}</p>`));
    if (!pending || pending.state !== query.get('state')) return send(res, 400, page('Other app', '<h1>Other app: login failed</h1><p>state</p>'));
    const { tokens, claims } = await oidc.finishLogin(query.get('code'), pending);
    const id = randomBytes(24).toString('base64url');
    sessions.set(id, { email: claims.email, sub: claims.sub, refreshToken: tokens.refresh_token, tokens });
    return redirect(res, '/', { 'set-cookie': [cookie(SESSION_COOKIE, id), cookie(LOGIN_COOKIE, '', 0)] });
  }

  async function logout(req, res, { everywhere }) {
    const session = endSession(req);
    if (everywhere && session?.refreshToken) await oidc.revoke(session.refreshToken, { global: true });
    return redirect(res, await oidc.logoutUrl(`${settings.url}/`), { 'set-cookie': cookie(SESSION_COOKIE, '', 0) });
  }

  const routes = {
    'GET /': (req, res) => send(res, 200, homePage(sessionOf(req))),
    'GET /healthz': (req, res) => send(res, 200, 'ok'),
    'POST /login': async (req, res) => {
      const { url, pending } = await oidc.startLogin();
      pendingLogins.set(pending.state, pending);
      return redirect(res, url, { 'set-cookie': cookie(LOGIN_COOKIE, pending.state) });
    },
    'GET /callback': (req, res, query) => callback(req, res, query),
    'POST /logout': (req, res) => logout(req, res, { everywhere: false }),
    'POST /logout-everywhere': (req, res) => logout(req, res, { everywhere: true }),
    // Front-channel logout: no framing restriction, so FusionAuth's logout page can load it.
    'GET /logout': (req, res) => {
      endSession(req);
      return send(res, 200, page('Other app', '<h1>Other app: signed out</h1>'), { 'set-cookie': cookie(SESSION_COOKIE, '', 0) });
    },
  };
  return { routes, origin: new URL(settings.url).origin };
}

/** The request handler: routes, a same-origin check on POSTs, and errors as a 500 page. */
function handlerOf({ routes, origin }) {
  return async (req, res) => {
    const url = new URL(req.url, origin);
    const route = routes[`${req.method} ${url.pathname}`];
    try {
      if (!route) return send(res, 404, page('Other app', '<h1>Not found</h1>'));
      if (req.method === 'POST') {
        if (req.headers.origin && req.headers.origin !== origin) return send(res, 403, page('Other app', '<h1>Cross-site request refused</h1>'));
        await readForm(req);
      }
      return await route(req, res, url.searchParams);
    } catch (err) {
      console.error(`other app: ${req.method} ${url.pathname}: ${err.message}`);
      return send(res, 500, page('Other app', `<h1>Other app: error</h1><p>${esc(err.message)}</p>`));
    }
  };
}

const settings = settingsOf(process.env);
try {
  const servers = await listenLoopback(handlerOf(otherApp(settings)), settings.port);
  console.log(`other app listening on ${settings.url} (issuer ${settings.issuer})`);
  const shutdown = () => {
    closeServers(servers).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (err) {
  console.error(`other app failed to start: ${err.message}`);
  process.exit(1);
}
