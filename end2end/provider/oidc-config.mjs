// The oidc-provider configuration built from the kickstart: FusionAuth's endpoint paths and
// cookie names, the application as the one client, its token lifetimes and refresh-token policy,
// and the features FusionAuth has (no revocation, no PAR, no claims parameter).
import { SCOPE_CLAIMS, accountFinder } from './claims.mjs';
import { consentFreePolicy, loadExistingGrant } from './consent.mjs';
import { COOKIE_NAMES, LONG_COOKIE, SHORT_COOKIE } from './cookies.mjs';
import { REGISTER_FLAG, interactionPath } from './routes/interaction.mjs';
import { messagePage } from './views.mjs';

const FUSIONAUTH_PATHS = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  end_session: '/oauth2/logout',
  introspection: '/oauth2/introspect',
  jwks: '/.well-known/jwks.json',
  revocation: '/oauth2/revoke-unsupported',
};

/** The kickstart application as an oidc-provider client (client id = application id). */
function clientOf(application) {
  return {
    client_id: application.clientId,
    client_secret: application.clientSecret,
    client_name: application.name,
    redirect_uris: application.redirectUris,
    post_logout_redirect_uris: application.redirectUris,
    grant_types: application.enabledGrants.filter((g) => ['authorization_code', 'refresh_token'].includes(g)),
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted as well
    id_token_signed_response_alg: 'RS256',
    require_auth_time: true, // FusionAuth always puts auth_time in the ID token
  };
}

function fusionAuthFeatures() {
  return {
    devInteractions: { enabled: false },
    introspection: {
      enabled: true,
      allowedPolicy: async (ctx, caller, token) => token.clientId === caller.clientId,
    },
    revocation: { enabled: false }, // FusionAuth has no RFC 7009 endpoint
    pushedAuthorizationRequests: { enabled: false },
    resourceIndicators: { enabled: false },
    claimsParameter: { enabled: false },
    userinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true, // advertises end_session_endpoint; the requests are served by routes/logout.mjs
      logoutSource: async (ctx) => { ctx.body = messagePage('Logout', 'Logging out.'); },
      postLogoutSuccessSource: async (ctx) => { ctx.body = messagePage('Logout', 'You are logged out.'); },
    },
  };
}

/** Lifetimes in seconds; FusionAuth uses one setting for access and ID tokens. */
function lifetimesOf(application, accessTokenTtlSecs) {
  const refreshTtl = application.refreshTokenTtlSecs;
  return {
    AccessToken: accessTokenTtlSecs,
    IdToken: accessTokenTtlSecs,
    AuthorizationCode: 60,
    RefreshToken: refreshTtl,
    Grant: Math.max(refreshTtl, 14 * 24 * 3600),
    Session: 14 * 24 * 3600,
    Interaction: 3600,
  };
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = messagePage('Error', `${out.error}: ${out.error_description ?? ''}`);
}

/** The configuration of a Provider for `instance` (see standin.mjs), signing with `keys`. */
export function oidcConfiguration(instance, keys) {
  const app = instance.application;
  return {
    adapter: instance.adapter,
    clients: [clientOf(app)],
    jwks: { keys },
    findAccount: accountFinder(instance),
    claims: SCOPE_CLAIMS,
    conformIdTokenClaims: false, // FusionAuth puts email/profile claims in the ID token
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { methods: ['S256'], required: () => app.pkceRequired },
    cookies: { names: COOKIE_NAMES, long: LONG_COOKIE, short: SHORT_COOKIE, keys: instance.cookieKeys },
    routes: FUSIONAUTH_PATHS,
    features: fusionAuthFeatures(),
    interactions: {
      policy: consentFreePolicy(),
      url: (ctx, interaction) => interactionPath(interaction.uid),
    },
    extraParams: [REGISTER_FLAG],
    loadExistingGrant,
    issueRefreshToken: async (ctx, client, code) => app.generateRefreshTokens
      && client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: () => app.refreshTokenOneTimeUse,
    expiresWithSession: () => false, // FusionAuth's logout ends the SSO session only; tokens stay valid
    ttl: lifetimesOf(app, instance.accessTokenTtlSecs),
    renderError,
  };
}
