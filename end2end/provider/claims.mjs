// What FusionAuth puts in its ID token and userinfo response: the standard claims of a user, the
// compatibility-mode userinfo extras (applicationId, roles, tid; not under the Strict scope
// handling policy, FusionAuth's default since 1.50), and the FusionAuth-only ID token claims
// (jti, tid, authenticationType, sid, scope). The access token's claims are in access-token.mjs.
import { randomUUID } from 'node:crypto';

import { authenticationTypeOf } from './access-token.mjs';
import { registrationOf } from './users.mjs';

/** Claims released per scope (oidc-provider's `claims` setting). */
export const SCOPE_CLAIMS = {
  // applicationId/roles/tid are only returned by claimsOf() for userinfo in compatibility mode
  openid: ['sub', 'applicationId', 'roles', 'tid'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
};

/** The claims of `user` for `use` ('id_token' or 'userinfo') in a token for the application `app`. */
export function claimsOf(user, use, { app, tenantId }) {
  const claims = {
    sub: user.id,
    email: user.email,
    email_verified: user.verified,
    given_name: user.firstName,
    family_name: user.lastName,
    name: user.fullName,
    preferred_username: user.username,
  };
  const registration = registrationOf(user, app?.clientId);
  if (use === 'userinfo' && app?.scopeHandlingPolicy === 'Compatibility') {
    // compatibility-mode userinfo also carries these (they left the ID token in FusionAuth 1.24)
    if (registration) Object.assign(claims, { applicationId: app.clientId, roles: [...registration.roles] });
    claims.tid = tenantId;
  }
  return claims;
}

/** oidc-provider's `findAccount`: the active user `sub` of `instance`, with claimsOf() as its claims. */
export function accountFinder(instance) {
  return async (ctx, sub) => {
    const user = instance.users.byId(sub);
    if (!user?.active) return undefined;
    return {
      accountId: sub,
      claims: async (use) => claimsOf(user, use, {
        app: instance.applications.byId(ctx?.oidc?.client?.clientId),
        tenantId: instance.tenantId,
      }),
    };
  };
}

/** Makes `provider`'s ID tokens carry FusionAuth's own claims. */
export function addFusionAuthIdTokenClaims(provider, tenantId) {
  const { IdToken } = provider;
  const issue = IdToken.prototype.issue;
  IdToken.prototype.issue = async function issueWithFusionAuthClaims(opts = {}) {
    if (opts.use === 'idtoken') {
      const entities = this.ctx?.oidc?.entities ?? {};
      const source = entities.AuthorizationCode ?? entities.RefreshToken;
      this.set('jti', randomUUID());
      this.set('tid', tenantId);
      this.set('authenticationType', authenticationTypeOf(this.ctx));
      if (source?.sessionUid) this.set('sid', source.sessionUid);
      if (this.scope) this.set('scope', this.scope);
    }
    return issue.call(this, opts);
  };
}
