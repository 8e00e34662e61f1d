// The other app's side of OpenID Connect, with FusionAuth's documented endpoints only: discovery,
// the authorization request (code flow, PKCE S256, state, nonce), the code exchange
// (client_secret_basic), ID token verification against the JWKS, RP-initiated logout at the
// end_session_endpoint, and FusionAuth's Logout API (POST /api/logout) to revoke refresh tokens.
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const random = () => b64url(randomBytes(32)); // 43 characters, the shortest PKCE verifier

export class OidcClient {
  #discovery;

  /** `issuer`, and this app's `clientId`, `clientSecret`, `redirectUri`. */
  constructor({ issuer, clientId, clientSecret, redirectUri }) {
    Object.assign(this, { issuer, clientId, clientSecret, redirectUri });
  }

  /** The discovery document (fetched once; fetched again after a failure). */
  async discovery() {
    this.#discovery ??= fetch(`${this.issuer}/.well-known/openid-configuration`).then(async (res) => {
      if (!res.ok) throw new Error(`discovery answered ${res.status}`);
      return res.json();
    });
    return this.#discovery.catch((err) => {
      this.#discovery = undefined;
      throw err;
    });
  }

  /** A new authorization request: the URL to send the browser to, and what the callback must check. */
  async startLogin() {
    const { authorization_endpoint: endpoint } = await this.discovery();
    const pending = { state: random(), nonce: random(), verifier: random() };
    const url = new URL(endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.clientId,
      redirect_uri: this.redirectUri,
      scope: 'openid email profile offline_access',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: b64url(createHash('sha256').update(pending.verifier).digest()),
      code_challenge_method: 'S256',
    }).toString();
    return { url: url.href, pending };
  }

  /** Exchanges `code` (the login `pending` started it); answers the tokens and the verified ID token claims. */
  async finishLogin(code, pending) {
    const { token_endpoint: endpoint } = await this.discovery();
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code', code, redirect_uri: this.redirectUri, code_verifier: pending.verifier,
      }),
    });
    const tokens = await res.json();
    if (!res.ok) throw new Error(`token endpoint: ${tokens.error ?? res.status} ${tokens.error_description ?? ''}`.trim());
    const claims = await this.verifyIdToken(tokens.id_token, pending.nonce);
    return { tokens, claims };
  }

  /** The claims of an RS256 ID token whose signature, iss, aud, exp and nonce check out. */
  async verifyIdToken(idToken, nonce) {
    const [h, p, s] = String(idToken).split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    const { jwks_uri: jwksUri } = await this.discovery();
    const { keys } = await (await fetch(jwksUri)).json();
    const jwk = keys.find((k) => k.kid === header.kid);
    if (header.alg !== 'RS256' || !jwk) throw new Error(`ID token: unknown key ${header.kid} or alg ${header.alg}`);
    const valid = verify('RSA-SHA256', Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    const audience = [].concat(claims.aud);
    if (!valid || claims.iss !== this.issuer || !audience.includes(this.clientId) || claims.nonce !== nonce
        || claims.exp * 1000 < Date.now()) {
      throw new Error('ID token: signature, issuer, audience, nonce or expiry does not check out');
    }
    return claims;
  }

  /** Where the browser goes for RP-initiated logout, coming back to `postLogoutRedirectUri`. */
  async logoutUrl(postLogoutRedirectUri) {
    const { end_session_endpoint: endpoint } = await this.discovery();
    const url = new URL(endpoint);
    url.search = new URLSearchParams({ client_id: this.clientId, post_logout_redirect_uri: postLogoutRedirectUri }).toString();
    return url.href;
  }

  /** FusionAuth's Logout API: revokes `refreshToken`, with `global` all of its owner's (and the SSO session). */
  async revoke(refreshToken, { global }) {
    const res = await fetch(`${this.issuer}/api/logout`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refreshToken, global }),
    });
    if (!res.ok) throw new Error(`POST /api/logout answered ${res.status}`);
  }
}
