// FusionAuth's access tokens are JWTs (RS256, header `typ` JWT, `kid` and `gty`; claims as in
// FusionAuth's token docs). oidc-provider 8 issues JWT access tokens only for a resource server
// (resource indicators), and its userinfo endpoint then refuses them. So the stand-in keeps
// oidc-provider's opaque access token as the stored truth and hands the client a FusionAuth-shaped
// JWT in its place:
//   - AccessToken#save stores the opaque token as usual and answers the JWT, so the token response
//     carries the JWT and the ID token's at_hash is computed over it;
//   - AccessToken.find maps a JWT the stand-in issued back to its opaque token, so userinfo and
//     introspection accept the JWT as the Bearer token; a bare opaque value is never accepted.
// The JWT's jti is the opaque token's id. The mapping lives in the shared store for the token's
// lifetime, so a JWT stays usable after a key rotation until it expires, as its opaque token does.
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';

import { refreshTokenIdFor } from './refresh-tokens.mjs';
import { epoch } from './store.mjs';
import { registrationOf } from './users.mjs';

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jwtKey = (jwt) => `AccessTokenJwt:${createHash('sha256').update(jwt).digest('base64url')}`;

/** A compact RS256 JWS of `payload` with `header`, signed with the private JWK `jwk`. */
export function signRs256(header, payload, jwk) {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const signature = sign('RSA-SHA256', Buffer.from(input), createPrivateKey({ key: jwk, format: 'jwk' }));
  return `${input}.${signature.toString('base64url')}`;
}

/** FusionAuth's authenticationType of a token issued in `ctx`. */
export const authenticationTypeOf = (ctx) => (ctx?.oidc?.params?.grant_type === 'refresh_token' ? 'REFRESH_TOKEN' : 'PASSWORD');

/**
 * The claims of the access token `token` (an oidc-provider AccessToken being saved in `ctx`), in
 * the order of FusionAuth's documented example. `applicationId` and `roles` only when the user is
 * registered for the application (roles as they are now); `email`/`email_verified` only under the
 * Compatibility scope handling policy; `sid` (the refresh token's id) only with a refresh token.
 */
function claimsOf(token, ctx, instance) {
  const app = instance.applications.byId(token.clientId);
  const user = instance.users.byId(token.accountId);
  const registration = registrationOf(user, token.clientId);
  const { RefreshToken, AuthorizationCode } = ctx.oidc.entities;
  const sid = refreshTokenIdFor(ctx, instance.refreshTokens, instance.issuesRefreshToken);
  const compatibility = app?.scopeHandlingPolicy === 'Compatibility';
  return {
    aud: token.clientId,
    exp: token.exp,
    iat: token.iat,
    iss: instance.issuer,
    sub: token.accountId,
    jti: token.jti,
    authenticationType: authenticationTypeOf(ctx),
    ...(compatibility ? { email: user?.email, email_verified: user?.verified } : {}),
    ...(registration ? { applicationId: token.clientId } : {}),
    ...(token.scope ? { scope: token.scope } : {}),
    ...(registration ? { roles: [...registration.roles] } : {}),
    ...(sid ? { sid } : {}),
    auth_time: (RefreshToken ?? AuthorizationCode)?.authTime,
    tid: instance.tenantId,
  };
}

/** The grants that led to `token`, in order (the header's `gty`), e.g. ["authorization_code","refresh_token"]. */
const grantTypesOf = (token) => [...new Set(String(token.gty ?? 'authorization_code').split(' '))];

/**
 * Makes `provider` hand out FusionAuth JWTs for its access tokens (see the top of this file).
 * `jwk` is the current private signing key, the one published in the JWKS.
 */
export function issueJwtAccessTokens(provider, instance, jwk) {
  const { AccessToken } = provider;
  const save = AccessToken.prototype.save;
  AccessToken.prototype.save = async function saveAsJwt(...args) {
    const ctx = instance.requestContext.getStore();
    if (!this.jti) {
      this.generateTokenId(); // picks the opaque format (its value is not used)
      this.jti = randomUUID(); // FusionAuth's jti is a UUID
    }
    this.iat = epoch();
    this.exp = this.iat + this.expiration;
    await save.apply(this, args);
    const header = { alg: 'RS256', typ: 'JWT', gty: grantTypesOf(this), kid: jwk.kid };
    const jwt = signRs256(header, claimsOf(this, ctx, instance), jwk);
    instance.store.set(jwtKey(jwt), this.jti, this.exp - epoch());
    return jwt;
  };

  const find = AccessToken.find;
  AccessToken.find = async function findIssuedJwt(value, ...args) {
    const jti = typeof value === 'string' ? instance.store.get(jwtKey(value)) : undefined;
    return jti ? find.call(this, jti, ...args) : undefined;
  };
}

/** The payload of a compact JWS (not verified), or undefined. */
export function decodeJwtPayload(jwt) {
  try {
    return JSON.parse(Buffer.from(String(jwt).split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
