// The control port the tests use to change the running stand-in (loopback only, JSON bodies and
// answers): the provider's life (health, key rotation, stop/start), the applications' settings,
// and what an administrator does to users, with the webhook deliveries that causes.
// See README.md, "Control API".
import { readJson } from './http.mjs';

function userNamed(instance, loginId) {
  const user = instance.users.byLoginId(loginId);
  if (!user) throw Object.assign(new Error(`no user ${loginId}`), { status: 404 });
  return user;
}

/** The answer of a user action: what it revoked and the webhook deliveries it caused (awaited). */
async function outcome(user, { revoked, deliveries }) {
  return {
    userId: user.id,
    loginId: user.email,
    active: user.active,
    revokedRefreshTokens: revoked.map((r) => r.id),
    webhooks: await deliveries,
  };
}

/** The control routes, "METHOD path" → handler(JSON body). */
function routesOf({ state, rotate, stop, start, instance, admin }) {
  const { applications, users, webhooks } = instance;
  const allSettings = () => ({ applications: applications.all().map((a) => applications.settingsOf(a)) });
  const onUser = (action) => async (body) => {
    const user = userNamed(instance, body.loginId);
    return outcome(user, action(user, body));
  };
  return {
    'GET /health': async () => ({ ...state(), webhooks: webhooks.subscriptions() }),
    'POST /rotate-key': () => rotate(),
    'POST /stop': async () => { await stop(); return state(); },
    'POST /start': async () => { await start(); return state(); },
    'GET /settings': async () => allSettings(),
    'POST /settings': async (body) => applications.change(body),
    'POST /reset': async () => { applications.reset(); users.reset(); return allSettings(); },
    'POST /revoke-user-sessions': onUser((user) => admin.revokeUserSessions(user)),
    'POST /deactivate-user': onUser((user) => admin.deactivate(user)),
    'POST /reactivate-user': onUser((user) => admin.reactivate(user)),
    'POST /delete-user': onUser((user) => admin.delete(user)),
    'POST /delete-registration': onUser((user, body) => admin.deleteRegistration(user, body.clientId)),
    'POST /set-roles': onUser((user, body) => admin.setRoles(user, body.clientId, body.roles)),
    'GET /webhook-deliveries': async () => ({ deliveries: webhooks.deliveries }),
    // test-only (faults.mjs): a slow token endpoint, and who spent a refresh token twice
    'GET /token-delay': async () => ({ tokenDelay: instance.tokenDelay.state() }),
    'POST /token-delay': async (body) => ({ tokenDelay: instance.tokenDelay.set(body) }),
    'GET /refresh-token-exchanges': async () => instance.refreshExchanges.report((id) => users.byId(id)?.email),
  };
}

/** The request handler of the control port over the stand-in's { state, rotate, stop, start, instance, admin }. */
export function controlHandler(controls) {
  const routes = routesOf(controls);
  return async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      const route = `${req.method} ${new URL(req.url, 'http://x').pathname}`;
      const handler = routes[route];
      if (!handler) return reply(404, { ok: false, error: `no route ${route}` });
      const body = req.method === 'POST' ? await readJson(req) : {};
      return reply(200, { ok: true, ...(await handler(body)) });
    } catch (err) {
      return reply(err.status ?? 500, { ok: false, error: String(err.message ?? err) });
    }
  };
}
