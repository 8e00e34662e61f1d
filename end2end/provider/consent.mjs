// FusionAuth never asks a first-party user for consent; oidc-provider does. This module owns the
// interaction policy: it grants every authorization request what it asks for, keeps
// `prompt=consent` from showing a page, and adds FusionAuth's registration requirement (a user
// not registered for an application with requireRegistration on gets no code, even with an SSO
// session). prompt=login and max_age are oidc-provider's own login checks, as FusionAuth 1.60+ has them.
import { interactionPolicy } from 'oidc-provider';

import { isRegisteredTo } from './users.mjs';

const { Check } = interactionPolicy;

/** The reason of the login prompt FusionAuth answers with its "Registration Required" page. */
export const REGISTRATION_REQUIRED = 'registration_required';

/**
 * Whether FusionAuth refuses `user` at the hosted login of `app`: requireRegistration is on, the
 * user has no registration, and self-service registration is off (with it on, FusionAuth registers
 * the user at login instead: docs, application.registrationConfiguration.enabled).
 */
export const registrationRefused = (user, app) => Boolean(user && app?.requireRegistration
  && !app.registrationEnabled && !isRegisteredTo(user, app.clientId));

/**
 * oidc-provider's default interaction policy (login when there is no session, prompt=login or
 * max_age demand it) without the check that turns `prompt=consent`, which oidc-provider insists
 * on before it honours offline_access, into an interaction; plus the registration requirement.
 */
export function fusionAuthPolicy(instance) {
  const policy = interactionPolicy.base();
  policy.get('consent').checks.remove('consent_prompt');
  policy.get('login').checks.add(new Check(REGISTRATION_REQUIRED, 'the user is not registered for this application', (ctx) => {
    const { oidc } = ctx;
    const user = oidc.session.accountId ? instance.users.byId(oidc.session.accountId) : undefined;
    return registrationRefused(user, instance.applications.byId(oidc.client.clientId))
      ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
  }));
  return policy;
}

/** The grant `grantId` (if it belongs to this account and client) or a new one, extended by scope and claims. */
export async function grantFor(provider, { accountId, clientId, grantId, scope, claims }) {
  let grant = grantId ? await provider.Grant.find(grantId) : undefined;
  if (grant && (grant.accountId !== accountId || grant.clientId !== clientId)) grant = undefined;
  grant ??= new provider.Grant({ accountId, clientId });
  if (scope) grant.addOIDCScope(scope);
  if (claims?.length) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}

/** oidc-provider's `loadExistingGrant`: whatever the request asks for is granted. */
export async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  return grantFor(oidc.provider, {
    accountId: oidc.account.accountId,
    clientId: oidc.client.clientId,
    grantId: oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId),
    scope: [...oidc.requestParamOIDCScopes].join(' '),
    claims: [...oidc.requestParamClaims],
  });
}

/**
 * For GET /oauth2/authorize. oidc-provider drops offline_access unless prompt contains consent
 * (OIDC Core 11); FusionAuth grants it without one. Consent itself never shows (see consentFreePolicy).
 */
export function askConsentForOfflineAccess(ctx) {
  const query = { ...ctx.query };
  const scopes = String(query.scope ?? '').split(' ');
  const prompts = new Set(String(query.prompt ?? '').split(' ').filter(Boolean));
  if (scopes.includes('offline_access') && !prompts.has('none') && !prompts.has('consent')) {
    prompts.add('consent');
    query.prompt = [...prompts].join(' ');
    ctx.query = query;
  }
}
