// What FusionAuth's token endpoint answers differently from oidc-provider: a successful response
// also names the user (`userId`) and the refresh token's id (`refresh_token_id`); the refresh grant
// sends a refresh token back only when it rotated it (one-time use; a Reusable token "does not
// change"); and a refresh token that is unknown, revoked, expired or already rotated away gets
// FusionAuth's invalid_grant body (quoted by a FusionAuth maintainer, fusionauth-issues#1796).
const REFRESH_TOKEN_INVALID = {
  error: 'invalid_grant',
  error_description: 'The refresh_token is invalid.',
  error_reason: 'refresh_token_not_found',
};

function successBody(instance, ctx) {
  const { Account, RefreshToken, RotatedRefreshToken } = ctx.oidc.entities;
  const body = { ...ctx.body };
  if (ctx.oidc.params.grant_type === 'refresh_token' && !RotatedRefreshToken) delete body.refresh_token;
  if (Account) body.userId = Account.accountId;
  const refreshTokenId = RefreshToken && instance.refreshTokens.idOf(RefreshToken.jti);
  if (refreshTokenId) body.refresh_token_id = refreshTokenId;
  return body;
}

/** After oidc-provider answered a token request. */
export function completeTokenResponse(instance, ctx) {
  if (ctx.path !== '/oauth2/token' || !ctx.oidc) return;
  if (ctx.status === 200 && ctx.body?.access_token) {
    ctx.body = successBody(instance, ctx);
  } else if (ctx.status === 400 && ctx.body?.error === 'invalid_grant' && ctx.oidc.params?.grant_type === 'refresh_token') {
    ctx.body = REFRESH_TOKEN_INVALID;
  }
}
