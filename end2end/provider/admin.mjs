// What changes a user's access at FusionAuth, and the webhook event each change sends: the Logout
// API revoking one refresh token or, globally, all of the owner's plus the owner's SSO sessions;
// and what an administrator does (revoke all of a user's refresh tokens, deactivate, reactivate or
// delete a user, delete a registration, change its roles). FusionAuth's SSO session is itself a
// refresh token without an application (its logout guide), so revoking all of a user's refresh
// tokens ends the user's SSO sessions too. Access tokens (JWTs) stay valid until they expire.
import {
  refreshTokenRevokeEvent, registrationDeleteEvent, registrationUpdateEvent, userEvent,
} from './events.mjs';
import { modelKey } from './store.mjs';

const notFound = (message) => Object.assign(new Error(message), { status: 404 });
const nothingSent = { revoked: [], deliveries: Promise.resolve([]) };

export class UserAdmin {
  constructor(instance) {
    this.instance = instance;
  }

  #ttlOf = (applicationId) => this.instance.accessTokenTtlSecs
    ?? this.instance.applications.byId(applicationId)?.accessTokenTtlSecs ?? 3600;

  #revoke(records) {
    for (const record of records) this.instance.refreshTokens.revoke(record);
    return records;
  }

  /** Sends jwt.refresh-token.revoke for `records` of `user` (none revoked, none sent, as FusionAuth). */
  #announceRevoked(user, records, single) {
    if (records.length === 0) return Promise.resolve([]);
    const { tenantId, webhooks } = this.instance;
    return webhooks.send(refreshTokenRevokeEvent({ tenantId, user, records, single, ttlOf: this.#ttlOf }));
  }

  /** Ends every SSO session of `userId` (every browser); answers how many. */
  endSsoSessions(userId) {
    const { store } = this.instance;
    let ended = 0;
    for (const [id, session] of store.entriesOf('Session')) {
      if (session.accountId === userId) {
        store.delete(modelKey('Session', id));
        ended += 1;
      }
    }
    return ended;
  }

  /** Revokes every refresh token of `user` and ends their SSO sessions; answers the revoked tokens. */
  #revokeEverything(user) {
    const revoked = this.#revoke(this.instance.refreshTokens.ofUser(user.id));
    this.endSsoSessions(user.id);
    return revoked;
  }

  /**
   * POST /api/logout: revokes the refresh token `token`; with `global`, every refresh token of its
   * owner and the owner's SSO sessions. An unknown or revoked token changes nothing.
   * Answers { revoked, deliveries } (deliveries: a promise; the Logout API does not wait for it).
   */
  logout(token, { global = false } = {}) {
    const record = this.instance.refreshTokens.find(token);
    const user = record && this.instance.users.byId(record.userId);
    if (!user) return nothingSent;
    const revoked = global ? this.#revokeEverything(user) : this.#revoke([record]);
    return { revoked, deliveries: this.#announceRevoked(user, revoked, !global) };
  }

  /** An administrator revoking all of `user`'s refresh tokens (DELETE /api/jwt/refresh?userId=). */
  revokeUserSessions(user) {
    const revoked = this.#revokeEverything(user);
    return { revoked, deliveries: this.#announceRevoked(user, revoked, false) };
  }

  /** Deactivates `user`: no login afterwards, refresh tokens and SSO sessions gone; user.deactivate. */
  deactivate(user) {
    user.active = false;
    const revoked = this.#revokeEverything(user);
    return { revoked, deliveries: this.instance.webhooks.send(userEvent('user.deactivate', user, this.instance.tenantId)) };
  }

  reactivate(user) {
    user.active = true;
    return { revoked: [], deliveries: Promise.resolve([]) };
  }

  /** Deletes `user` (tokens and SSO sessions gone); user.delete with the user as it was. */
  delete(user) {
    const revoked = this.#revokeEverything(user);
    this.instance.users.delete(user);
    return { revoked, deliveries: this.instance.webhooks.send(userEvent('user.delete', user, this.instance.tenantId)) };
  }

  /** Deletes `user`'s registration for `applicationId` and revokes that application's refresh tokens. */
  deleteRegistration(user, applicationId) {
    const registration = this.instance.users.deleteRegistration(user, applicationId);
    if (!registration) throw notFound(`${user.email} has no registration for ${applicationId}`);
    const revoked = this.#revoke(this.instance.refreshTokens.ofUser(user.id, applicationId));
    const event = registrationDeleteEvent({ tenantId: this.instance.tenantId, user, registration });
    return { revoked, deliveries: this.instance.webhooks.send(event) };
  }

  /** Replaces the roles of `user`'s registration for `applicationId`; the next access token carries them. */
  setRoles(user, applicationId, roles) {
    if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string')) {
      throw Object.assign(new Error('roles must be an array of role names'), { status: 400 });
    }
    const change = this.instance.users.setRoles(user, applicationId, roles);
    if (!change) throw notFound(`${user.email} has no registration for ${applicationId}`);
    const event = registrationUpdateEvent({ tenantId: this.instance.tenantId, user, ...change });
    return { revoked: [], deliveries: this.instance.webhooks.send(event) };
  }
}
