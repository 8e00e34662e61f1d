// What FusionAuth puts in its ID token and userinfo response: the standard claims of a user, the
// compatibility-mode userinfo extras (applicationId, roles, tid), and the FusionAuth-only ID token
// claims (jti, tid, authenticationType, sid, scope).
import { randomUUID } from 'node:crypto';

/** Claims released per scope (oidc-provider's `claims` setting). */
export const SCOPE_CLAIMS = {
  // applicationId/roles/tid are only returned by claimsOf() for userinfo (compatibility mode)
  openid: ['sub', 'applicationId', 'roles', 'tid'],
  email: ['email', 'email_verified'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
};

/** The claims of `user` for `use` ('id_token' or 'userinfo') in a token for `applicationId`. */
export function claimsOf(user, use, { applicationId, tenantId }) {
  const claims = {
    sub: user.id,
    email: user.email,
    email_verified: user.verified,
    given_name: user.firstName,
    family_name: user.lastName,
    name: user.fullName,
    preferred_username: user.username,
  };
  if (use === 'userinfo') {
    // compatibility-mode userinfo also carries these (they left the ID token in FusionAuth 1.24)
    const registration = user.registrations.find((r) => r.applicationId === applicationId);
    claims.applicationId = applicationId;
    claims.roles = registration?.roles ?? [];
    claims.tid = tenantId;
  }
  return claims;
}

/** oidc-provider's `findAccount`: the user `sub` of `instance`, with claimsOf() as its claims. */
export function accountFinder(instance) {
  const context = { applicationId: instance.application.clientId, tenantId: instance.tenantId };
  return async (ctx, sub) => {
    const user = instance.users.byId(sub);
    if (!user) return undefined;
    return { accountId: sub, claims: async (use) => claimsOf(user, use, context) };
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
      const viaRefresh = this.ctx?.oidc?.params?.grant_type === 'refresh_token';
      this.set('jti', randomUUID());
      this.set('tid', tenantId);
      this.set('authenticationType', viaRefresh ? 'REFRESH_TOKEN' : 'PASSWORD');
      if (source?.sessionUid) this.set('sid', source.sessionUid);
      if (this.scope) this.set('scope', this.scope);
    }
    return issue.call(this, opts);
  };
}
