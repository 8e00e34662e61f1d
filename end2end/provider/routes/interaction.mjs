// FusionAuth's hosted login and registration forms, rendered where FusionAuth renders them: in the
// response to GET /oauth2/authorize (or /oauth2/register) itself, and posted back to that path.
// oidc-provider answers an authorization that needs a login with a 303 to its interaction URL; the
// stand-in makes that URL the path the form lives on (so the interaction cookie, whose path it is,
// comes back with the form POST) and renders the form in that very response instead of
// redirecting. A POST /oauth2/authorize is the form when it carries the interaction cookie and a
// loginId field (an OAuth authorization request has neither); anything else goes on to
// oidc-provider. A finished form answers 303 to /oauth2/authorize/<uid>, where oidc-provider
// resumes and redirects to the application.
import { COOKIE_NAMES } from '../cookies.mjs';
import { REGISTRATION_REQUIRED, grantFor } from '../consent.mjs';
import { readBody } from '../http.mjs';
import { epoch } from '../store.mjs';
import { passwordMatches } from '../users.mjs';
import { loginPage, messagePage, registerPage, registrationRequiredPage } from '../views.mjs';

/** Internal authorize parameter that marks a request which came through /oauth2/register. */
export const REGISTER_FLAG = 'x_register';
const INVALID_CREDENTIALS = 'Invalid login credentials.';
const AUTHORIZE = '/oauth2/authorize';
const REGISTER = '/oauth2/register';

/** oidc-provider's `interactions.url`: the path the form of `interaction` is rendered at and posted to. */
export const interactionUrl = (ctx, interaction) => (interaction.params[REGISTER_FLAG] === '1' ? REGISTER : AUTHORIZE);

/** GET /oauth2/register takes the parameters of /oauth2/authorize and always shows the registration form. */
export function registerViaAuthorize(ctx) {
  const query = { ...ctx.query, [REGISTER_FLAG]: '1' };
  const prompts = new Set(String(query.prompt ?? '').split(' ').filter(Boolean));
  prompts.delete('none');
  prompts.add('login');
  query.prompt = [...prompts].join(' ');
  ctx.path = AUTHORIZE;
  ctx.query = query;
}

function render(ctx, status, html) {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
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

/** One request to a pending login interaction: renders its pages and finishes it with a login or a grant. */
class LoginInteraction {
  constructor(instance, provider, ctx, interaction) {
    this.app = instance.applications.byId(interaction.params.client_id);
    this.applications = instance.applications;
    this.users = instance.users;
    this.provider = provider;
    this.ctx = ctx;
    this.interaction = interaction;
    this.params = interaction.params;
  }

  get isRegistration() {
    return this.params[REGISTER_FLAG] === '1' && Boolean(this.app?.registrationEnabled);
  }

  /** The /oauth2/register link of the login form: the same authorize parameters. */
  get registerUrl() {
    if (!this.app?.registrationEnabled) return undefined;
    const params = Object.entries(this.params)
      .filter(([k, v]) => v !== undefined && k !== REGISTER_FLAG && k !== 'prompt');
    return `${REGISTER}?${new URLSearchParams(params)}`;
  }

  /** Stores the result on the interaction (as Provider#interactionResult does) and resumes. */
  async finish(result) {
    const { interaction } = this;
    interaction.result = result;
    await interaction.save(interaction.exp - epoch());
    this.ctx.status = 303;
    this.ctx.redirect(interaction.returnTo);
  }

  renderLogin(extra = {}) {
    render(this.ctx, 200, loginPage({ action: AUTHORIZE, appName: this.app?.name, registerUrl: this.registerUrl, ...extra }));
  }

  renderRegister(extra = {}) {
    render(this.ctx, 200, registerPage({ action: REGISTER, appName: this.app?.name, ...extra }));
  }

  /** Only reached when something unusual was requested: grant it, FusionAuth-style. */
  async grantConsent() {
    const grant = await grantFor(this.provider, {
      accountId: this.interaction.session.accountId,
      clientId: this.params.client_id,
      grantId: this.interaction.grantId,
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

  /** The page of a new interaction: the registration refusal, the registration form or the login form. */
  async show() {
    const { name, reasons } = this.interaction.prompt;
    if (name === 'consent') return this.grantConsent();
    if (reasons.length === 1 && reasons[0] === REGISTRATION_REQUIRED) return render(this.ctx, 200, registrationRequiredPage());
    if (this.isRegistration) return this.renderRegister();
    return this.renderLogin({ loginId: this.params.login_hint ?? '' });
  }

  async logIn(form) {
    const user = this.users.byLoginId(form.loginId);
    if (!user?.active || !passwordMatches(form.password, user.password)) {
      return this.renderLogin({ loginId: form.loginId, errors: [INVALID_CREDENTIALS] });
    }
    return this.signIn(user);
  }

  async register(form) {
    const { values, errors } = checkRegistration(form, this.users);
    if (errors.length) return this.renderRegister({ values, errors });
    const roles = this.applications.defaultRoles(this.app.clientId);
    return this.signIn(this.users.register({ ...values, password: form.password }, this.app.clientId, roles));
  }
}

/**
 * After oidc-provider: when it answered with a redirect to the interaction URL, the page of that
 * interaction is rendered in this response instead (its cookies are kept).
 */
export async function renderInteractionInPlace(instance, provider, ctx) {
  const interaction = ctx.oidc?.entities?.Interaction;
  if (ctx.status !== 303 || !interaction || ctx.response.get('Location') !== interactionUrl(ctx, interaction)) return;
  ctx.remove('Location');
  await new LoginInteraction(instance, provider, ctx, interaction).show();
}

/** The interaction this browser's cookie names, or an error page and undefined. */
async function pendingInteraction(provider, ctx) {
  try {
    return await provider.interactionDetails(ctx.req, ctx.res);
  } catch {
    render(ctx, 400, messagePage('Login expired', 'This login request has expired or was already used. Return to the application and start again.'));
    return undefined;
  }
}

/**
 * Before oidc-provider: a POST of the login form to /oauth2/authorize or of the registration form
 * to /oauth2/register. Answers whether it handled the request; a POST /oauth2/authorize that is
 * not the login form goes on to oidc-provider with the body read here (`req.body`).
 */
export async function handleFormPost(instance, provider, ctx) {
  const isRegister = ctx.path === REGISTER;
  if (ctx.method !== 'POST' || !(isRegister || ctx.path === AUTHORIZE)) return false;
  if (!isRegister && !(ctx.cookies.get(COOKIE_NAMES.interaction) && ctx.is('application/x-www-form-urlencoded'))) return false;
  const raw = await readBody(ctx.req);
  const form = Object.fromEntries(new URLSearchParams(raw));
  if (!isRegister && form.loginId === undefined) {
    ctx.req.body = raw;
    return false;
  }
  const interaction = await pendingInteraction(provider, ctx);
  if (!interaction) return true;
  const step = new LoginInteraction(instance, provider, ctx, interaction);
  if (interaction.prompt.name !== 'login' || (isRegister && !step.isRegistration)) {
    render(ctx, 400, messagePage('Login expired', 'This form does not belong to the pending login. Return to the application and start again.'));
  } else if (isRegister) {
    await step.register(form);
  } else {
    await step.logIn(form);
  }
  return true;
}
