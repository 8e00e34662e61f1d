// FusionAuth never asks a first-party user for consent; oidc-provider does. This module grants
// every authorization request what it asks for and keeps `prompt=consent` from showing a page.
import { interactionPolicy } from 'oidc-provider';

/**
 * oidc-provider's default interaction policy (login when there is no session, prompt=login or
 * max_age demand it) without the check that turns `prompt=consent`, which oidc-provider insists
 * on before it honours offline_access, into an interaction.
 */
export function consentFreePolicy() {
  const policy = interactionPolicy.base();
  policy.get('consent').checks.remove('consent_prompt');
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
