// The hosted login and registration forms at /oauth2/interaction/<uid>, shown when oidc-provider
// needs a login (no session, prompt=login, max_age), and /oauth2/register, which reaches the
// registration form through /oauth2/authorize.
import { grantFor } from '../consent.mjs';
import { readForm } from '../http.mjs';
import { isRegisteredTo, passwordMatches } from '../users.mjs';
import { esc, loginPage, messagePage, registerPage } from '../views.mjs';

/** Internal authorize parameter that marks a request which came through /oauth2/register. */
export const REGISTER_FLAG = 'x_register';
const INVALID_CREDENTIALS = 'Invalid login credentials.';
const INTERACTION_ROUTE = /^\/oauth2\/interaction\/([\w-]+)(?:\/(login|register))?$/;

export const interactionPath = (uid) => `/oauth2/interaction/${uid}`;

/** { uid, action } of an interaction path (action: undefined, 'login' or 'register'), else undefined. */
export function matchInteraction(path) {
  const match = path.match(INTERACTION_ROUTE);
  return match ? { uid: match[1], action: match[2] } : undefined;
}

/** GET /oauth2/register takes the parameters of /oauth2/authorize and always shows the registration form. */
export function registerViaAuthorize(ctx) {
  const query = { ...ctx.query, [REGISTER_FLAG]: '1' };
  const prompts = new Set(String(query.prompt ?? '').split(' ').filter(Boolean));
  prompts.delete('none');
  prompts.add('login');
  query.prompt = [...prompts].join(' ');
  ctx.path = '/oauth2/authorize';
  ctx.query = query;
}

function renderMessage(ctx, status, title, message) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = messagePage(title, message);
}

/** The pending interaction of this browser, if it is the one `uid` names; else an error page and undefined. */
async function pendingInteraction(provider, ctx, uid) {
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    renderMessage(ctx, 400, 'Login expired', 'This login request has expired or was already used. Return to the application and start again.');
    return undefined;
  }
  if (details.uid !== uid) {
    renderMessage(ctx, 400, 'Login expired', 'This login request does not match your browser session. Return to the application and start again.');
    return undefined;
  }
  return details;
}

/** The checks of FusionAuth's registration form; returns the trimmed values and the error messages. */
function checkRegistration(form, users) {
  const values = {
    email: String(form.email ?? '').trim(),
    firstName: String(form.firstName ?? '').trim(),
    lastName: String(form.lastName ?? '').trim(),
  };
  const errors = [];
  if (!/^[^@\s]+@[^@\s]+$/.test(values.email)) errors.push('Email is required and must be a valid email address.');
  else if (users.byLoginId(values.email)) errors.push('A user with this email already exists.');
  if (String(form.password ?? '').length < 8) errors.push('Password must be at least 8 characters.');
  if (!values.firstName) errors.push('First name is required.');
  if (!values.lastName) errors.push('Last name is required.');
  return { values, errors };
}

/** One request to a login interaction: renders its forms and finishes it with a login or a grant. */
class LoginInteraction {
  constructor(instance, provider, ctx, details) {
    this.app = instance.application;
    this.users = instance.users;
    this.provider = provider;
    this.ctx = ctx;
    this.details = details;
    this.params = details.params;
    this.base = interactionPath(details.uid);
  }

  get isRegistration() {
    return this.params[REGISTER_FLAG] === '1' && this.app.registrationEnabled;
  }

  /** The /oauth2/register link of the login form: the same authorize parameters. */
  get registerUrl() {
    if (!this.app.registrationEnabled) return undefined;
    const params = Object.entries(this.params)
      .filter(([k, v]) => v !== undefined && k !== REGISTER_FLAG && k !== 'prompt');
    return `/oauth2/register?${new URLSearchParams(params)}`;
  }

  async finish(result) {
    const { req, res } = this.ctx;
    const returnTo = await this.provider.interactionResult(req, res, result, { mergeWithLastSubmission: false });
    this.ctx.status = 303;
    this.ctx.redirect(returnTo);
  }

  renderLogin(extra = {}) {
    this.ctx.type = 'html';
    this.ctx.body = loginPage({ action: `${this.base}/login`, appName: this.app.name, registerUrl: this.registerUrl, ...extra });
  }

  renderRegister(extra = {}) {
    this.ctx.type = 'html';
    this.ctx.body = registerPage({ action: `${this.base}/register`, appName: this.app.name, ...extra });
  }

  /** Only reached when something unusual was requested: grant it, FusionAuth-style. */
  async grantConsent() {
    const grant = await grantFor(this.provider, {
      accountId: this.details.session.accountId,
      clientId: this.params.client_id,
      grantId: this.details.grantId,
      scope: this.params.scope,
    });
    return this.finish({ consent: { grantId: grant.jti } });
  }

  async signIn(user) {
    const grant = await grantFor(this.provider, {
      accountId: user.id, clientId: this.params.client_id, scope: this.params.scope,
    });
    return this.finish({
      login: { accountId: user.id, remember: true, amr: ['pwd'] },
      consent: { grantId: grant.jti },
    });
  }

  showForm() {
    if (this.isRegistration) this.renderRegister(); else this.renderLogin({ loginId: this.params.login_hint ?? '' });
    return undefined;
  }

  async logIn(form) {
    const user = this.users.byLoginId(form.loginId);
    if (!user || !passwordMatches(form.password, user.password)) {
      this.renderLogin({ loginId: form.loginId, errors: [INVALID_CREDENTIALS] });
      return undefined;
    }
    if (this.app.requireRegistration && !isRegisteredTo(user, this.params.client_id)) {
      this.renderLogin({ loginId: form.loginId, errors: [`You are not registered for ${this.app.name}.`] });
      return undefined;
    }
    return this.signIn(user);
  }

  async register(form) {
    const { values, errors } = checkRegistration(form, this.users);
    if (errors.length) {
      this.renderRegister({ values, errors });
      return undefined;
    }
    return this.signIn(this.users.register({ ...values, password: form.password }, this.app.clientId));
  }
}

/** The handler of /oauth2/interaction/<uid>[/login|/register]: (provider, ctx, uid, action). */
export function interactionRoute(instance) {
  return async function interaction(provider, ctx, uid, action) {
    ctx.set('Cache-Control', 'no-store');
    const details = await pendingInteraction(provider, ctx, uid);
    if (!details) return undefined;
    const step = new LoginInteraction(instance, provider, ctx, details);

    if (details.prompt.name === 'consent') return step.grantConsent();
    if (details.prompt.name !== 'login') {
      renderMessage(ctx, 400, 'Unsupported', `Unsupported interaction "${esc(details.prompt.name)}".`);
      return undefined;
    }
    if (ctx.method === 'GET' && !action) return step.showForm();
    if (ctx.method === 'POST' && action === 'login') return step.logIn(await readForm(ctx.req));
    if (ctx.method === 'POST' && action === 'register' && instance.application.registrationEnabled) {
      return step.register(await readForm(ctx.req));
    }
    ctx.status = 405;
    ctx.body = 'Method Not Allowed';
    return undefined;
  };
}
