// What FusionAuth does when it sends the browser back to an application with a code: it adds
// `locale` and `userState` (Authenticated, or AuthenticatedNotRegistered for a user without a
// registration) to the redirect, and, when the application has self-service registration, first
// registers a user who has none, with the application's default roles (docs:
// application.registrationConfiguration.enabled, "any user logging in to this application using
// hosted login pages will automatically have a registration created"). And what it says when
// prompt=none finds no SSO session: error_reason and error_description of its own.
import { appendParams } from '../http.mjs';
import { isRegisteredTo } from '../users.mjs';

/** The redirect of an authorization response that carries a code for the application `app`, if this is one. */
function codeRedirect(ctx, app) {
  if (ctx.status !== 303 && ctx.status !== 302) return undefined;
  const location = ctx.response.get('Location');
  if (!location || !app.redirectUris.some((u) => location.startsWith(`${u}?`))) return undefined;
  return new URL(location).searchParams.has('code') ? location : undefined;
}

/** prompt=none without an SSO session: FusionAuth's error_reason and error_description (docs, oauth/prompt). */
function describeLoginRequired(ctx) {
  const location = ctx.status === 303 || ctx.status === 302 ? ctx.response.get('Location') : undefined;
  if (!location || new URL(location, 'http://x').searchParams.get('error') !== 'login_required') return;
  ctx.set('Location', appendParams(location, {
    error_reason: 'authentication_required', error_description: 'The user is required to complete authentication.',
  }));
}

/** After oidc-provider answered an authorization request (or its resumption). */
export function completeAuthorizationResponse(instance, ctx) {
  describeLoginRequired(ctx);
  const code = ctx.oidc?.entities?.AuthorizationCode;
  const app = code && instance.applications.byId(code.clientId);
  const location = app && codeRedirect(ctx, app);
  if (!location) return;
  const user = instance.users.byId(code.accountId);
  if (user && app.registrationEnabled && !isRegisteredTo(user, app.clientId)) {
    instance.users.addRegistration(user, app.clientId, instance.applications.defaultRoles(app.clientId));
  }
  const userState = isRegisteredTo(user, app.clientId) ? 'Authenticated' : 'AuthenticatedNotRegistered';
  ctx.set('Location', appendParams(location, { locale: 'en', userState }));
}
