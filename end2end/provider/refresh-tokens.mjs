// The refresh tokens as FusionAuth knows them: each has an id of its own (the access token's
// `sid`, the `refreshToken.id` of a revoke event) that stays the same when a one-time-use token
// is rotated, an owner and an application. oidc-provider stores the token values; this ledger
// keeps FusionAuth's view next to them, filled by every RefreshToken#save of the provider.
import { randomUUID } from 'node:crypto';

import { modelKey } from './store.mjs';

export class RefreshTokenLedger {
  #store;

  #tenantId;

  #byId = new Map();

  #idByToken = new Map();

  constructor(store, tenantId) {
    this.#store = store;
    this.#tenantId = tenantId;
  }

  /** Whether oidc-provider still holds the token value (not revoked, not expired, not rotated away). */
  #live(record) {
    return this.#store.get(modelKey('RefreshToken', record.token)) !== undefined;
  }

  /** A new refresh token `token` (its oidc-provider value) with the FusionAuth id `id`. */
  issue({ id = randomUUID(), token, applicationId, userId, scopes }) {
    const now = Date.now();
    const record = {
      id, applicationId, userId, token, tenantId: this.#tenantId, insertInstant: now, startInstant: now, scopes,
    };
    this.#byId.set(id, record);
    this.#idByToken.set(token, id);
    return record;
  }

  /** One-time use: `oldToken` was replaced by `newToken`; the id stays. */
  rotate(oldToken, newToken) {
    const record = this.find(oldToken, { evenIfRevoked: true });
    if (!record) return undefined;
    this.#idByToken.delete(oldToken);
    record.token = newToken;
    this.#idByToken.set(newToken, record.id);
    return record;
  }

  /** The record of the token value `token` (undefined when unknown, or revoked unless asked for). */
  find(token, { evenIfRevoked = false } = {}) {
    const record = this.#byId.get(this.#idByToken.get(token));
    return record && (evenIfRevoked || this.#live(record)) ? record : undefined;
  }

  /** The FusionAuth id of the refresh token `token`. */
  idOf(token) { return this.#idByToken.get(token); }

  /** The valid refresh tokens of `userId` (of one application when `applicationId` is given). */
  ofUser(userId, applicationId) {
    return [...this.#byId.values()].filter((r) => r.userId === userId
      && (!applicationId || r.applicationId === applicationId) && this.#live(r));
  }

  /** Revokes the token: oidc-provider no longer finds it, and neither does the ledger. */
  revoke(record) {
    this.#store.delete(modelKey('RefreshToken', record.token));
    this.#byId.delete(record.id);
    this.#idByToken.delete(record.token);
  }
}

/**
 * Makes `provider` record every refresh token it saves in `ledger`. `requestContext` gives the
 * request being served: a rotation (refresh grant, one-time use) keeps the id of the token it
 * replaces; a new token takes the id already promised to its access token (`ctx.state.refreshTokenId`).
 */
export function recordRefreshTokens(provider, ledger, requestContext) {
  const { RefreshToken } = provider;
  const save = RefreshToken.prototype.save;
  RefreshToken.prototype.save = async function saveAndRecord(...args) {
    const value = await save.apply(this, args);
    const ctx = requestContext.getStore();
    const rotated = ctx?.oidc?.entities?.RotatedRefreshToken;
    if (!(rotated && rotated !== this && ledger.rotate(rotated.jti, value))) {
      ledger.issue({
        id: ctx?.state?.refreshTokenId, token: value, applicationId: this.clientId, userId: this.accountId, scopes: [...this.scopes],
      });
    }
    return value;
  };
}

/** The FusionAuth id of the refresh token that goes with the access token being issued in `ctx`, if any. */
export function refreshTokenIdFor(ctx, ledger, issuesRefreshToken) {
  const { RefreshToken, AuthorizationCode } = ctx.oidc.entities;
  if (RefreshToken) return ledger.idOf(RefreshToken.jti);
  if (AuthorizationCode && issuesRefreshToken(ctx, ctx.oidc.client, AuthorizationCode)) {
    ctx.state.refreshTokenId ??= randomUUID();
    return ctx.state.refreshTokenId;
  }
  return undefined;
}
