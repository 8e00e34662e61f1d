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

/**
 * Writes a refresh-token grant the token endpoint just answered into the exchange ledger
 * (faults.mjs): the value presented, its FusionAuth id and owner, when it arrived (before any
 * test delay) and was answered, and whether it was rotated.
 */
export function recordRefreshExchange(instance, ctx, startedAt) {
  if (ctx.path !== '/oauth2/token' || ctx.oidc?.params?.grant_type !== 'refresh_token') return;
  const value = ctx.oidc.params.refresh_token;
  const { Account, RotatedRefreshToken } = ctx.oidc.entities;
  const clientId = ctx.oidc.client?.clientId;
  const rotated = ctx.status === 200 && Boolean(RotatedRefreshToken) && typeof ctx.body?.refresh_token === 'string';
  instance.refreshExchanges.record({
    value,
    tokenId: instance.refreshTokens.idOf(rotated ? ctx.body.refresh_token : value),
    userId: Account?.accountId,
    clientId,
    arrivedAt: ctx.req.arrivedAt ?? startedAt,
    startedAt,
    endedAt: Date.now(),
    status: ctx.status,
    rotated,
    policy: instance.applications.byId(clientId)?.refreshTokenUsagePolicy,
  });
}
