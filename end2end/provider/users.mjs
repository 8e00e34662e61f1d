// The users the stand-in knows: the kickstart's, plus those created through /oauth2/register
// (memory only), how they are found by login id, and how a password is checked.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';

const digest = (s) => createHash('sha256').update(String(s ?? ''), 'utf8').digest();

/** Constant-time comparison of a submitted password with the stored one. */
export const passwordMatches = (actual, expected) => typeof expected === 'string'
  && timingSafeEqual(digest(actual), digest(expected));

/** Whether `user` has a registration for the application (= OAuth client) `applicationId`. */
export const isRegisteredTo = (user, applicationId) => user.registrations.some((r) => r.applicationId === applicationId);

/** Users by id (the `sub` of their tokens), in the order they were added. */
export class UserDirectory {
  #byId;

  constructor(users) {
    this.#byId = new Map(users.map((u) => [u.id, u]));
  }

  byId(id) { return this.#byId.get(id); }

  /** The user whose email or username is `loginId` (case-insensitive), as FusionAuth's login form accepts either. */
  byLoginId(loginId) {
    const wanted = String(loginId ?? '').trim().toLowerCase();
    for (const u of this.#byId.values()) {
      if (u.email?.toLowerCase() === wanted || (u.username && u.username.toLowerCase() === wanted)) return u;
    }
    return undefined;
  }

  /** Creates an unverified user registered to `applicationId` with no roles, as self-service registration does. */
  register({ email, password, firstName, lastName }, applicationId) {
    const user = {
      id: randomUUID(),
      email,
      password,
      firstName,
      lastName,
      fullName: `${firstName} ${lastName}`,
      verified: false,
      registrations: [{ applicationId, roles: [] }],
    };
    this.#byId.set(user.id, user);
    return user;
  }
}
