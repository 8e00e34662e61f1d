// The oidc-provider configuration built from the kickstart: FusionAuth's endpoint paths and
// cookie names, every application as a client, each with its own PKCE policy, token lifetimes and
// refresh-token policy (read when a token is issued, so POST /settings applies at once), and the
// features FusionAuth has (no revocation, no PAR, no claims parameter).
import { SCOPE_CLAIMS, accountFinder } from './claims.mjs';
import { fusionAuthPolicy, loadExistingGrant } from './consent.mjs';
import { COOKIE_NAMES, LONG_COOKIE, SHORT_COOKIE } from './cookies.mjs';
import { REGISTER_FLAG, interactionUrl } from './routes/interaction.mjs';
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

/** A kickstart application as an oidc-provider client (client id = application id). */
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

/**
 * Whether a code exchange gives a refresh token: offline_access requested, the application
 * generates refresh tokens, and the refresh_token grant is enabled (FusionAuth's rule).
 */
export function refreshTokenIssuer(applications) {
  return (ctx, client, code) => Boolean(applications.byId(client.clientId)?.generateRefreshTokens
    && client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'));
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

/**
 * Lifetimes in seconds, per application; FusionAuth uses one setting for access and ID tokens
 * (ACCESS_TOKEN_TTL_SECS overrides it for every application).
 */
function lifetimesOf(instance) {
  const app = (client) => instance.applications.byId(client?.clientId);
  const tokenTtl = (ctx, token, client) => instance.accessTokenTtlSecs ?? app(client)?.accessTokenTtlSecs ?? 3600;
  const longest = Math.max(...instance.applications.all().map((a) => a.refreshTokenTtlSecs));
  return {
    AccessToken: tokenTtl,
    IdToken: tokenTtl,
    AuthorizationCode: 60,
    RefreshToken: (ctx, token, client) => app(client)?.refreshTokenTtlSecs ?? longest,
    Grant: Math.max(longest, 14 * 24 * 3600),
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
  const { applications } = instance;
  return {
    adapter: instance.adapter,
    clients: applications.all().map(clientOf),
    jwks: { keys },
    findAccount: accountFinder(instance),
    claims: SCOPE_CLAIMS,
    conformIdTokenClaims: false, // FusionAuth puts email/profile claims in the ID token
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: { methods: ['S256'], required: (ctx, client) => Boolean(applications.byId(client.clientId)?.pkceRequired) },
    cookies: { names: COOKIE_NAMES, long: LONG_COOKIE, short: SHORT_COOKIE, keys: instance.cookieKeys },
    routes: FUSIONAUTH_PATHS,
    features: fusionAuthFeatures(),
    interactions: { policy: fusionAuthPolicy(instance), url: interactionUrl },
    extraParams: [REGISTER_FLAG],
    loadExistingGrant,
    issueRefreshToken: instance.issuesRefreshToken,
    rotateRefreshToken: (ctx) => applications.byId(ctx.oidc.client.clientId)?.refreshTokenUsagePolicy === 'OneTimeUse',
    expiresWithSession: () => false, // FusionAuth's logout ends the SSO session only; tokens stay valid
    ttl: lifetimesOf(instance),
    renderError,
  };
}
