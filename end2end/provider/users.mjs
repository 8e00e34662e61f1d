// The users the stand-in knows: the kickstart's, plus those created through /oauth2/register
// (memory only); how they are found by login id, how a password is checked, what an administrator
// changes (registrations, roles, active flag, deletion), and how FusionAuth's API shows a user.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';

const digest = (s) => createHash('sha256').update(String(s ?? ''), 'utf8').digest();

/** Constant-time comparison of a submitted password with the stored one. */
export const passwordMatches = (actual, expected) => typeof expected === 'string'
  && timingSafeEqual(digest(actual), digest(expected));

/** The registration of `user` for the application (= OAuth client) `applicationId`, if any. */
export const registrationOf = (user, applicationId) => user?.registrations.find((r) => r.applicationId === applicationId);

/** Whether `user` has a registration for the application `applicationId`. */
export const isRegisteredTo = (user, applicationId) => Boolean(registrationOf(user, applicationId));

const newRegistration = (applicationId, roles) => ({
  id: randomUUID(), applicationId, roles: [...roles], insertInstant: Date.now(),
});

/** `user` as FusionAuth's User API and events show it (never the password). */
export function fusionAuthUser(user, tenantId) {
  return {
    active: user.active,
    email: user.email,
    firstName: user.firstName,
    fullName: user.fullName,
    id: user.id,
    insertInstant: user.insertInstant,
    lastName: user.lastName,
    registrations: user.registrations.map((r) => fusionAuthRegistration(r)),
    tenantId,
    ...(user.username ? { username: user.username } : {}),
    verified: user.verified,
  };
}

/** A registration as FusionAuth shows it. */
export function fusionAuthRegistration(registration) {
  const { id, applicationId, roles, insertInstant } = registration;
  return { applicationId, id, insertInstant, roles: [...roles], usernameStatus: 'ACTIVE', verified: true };
}

/** Users by id (the `sub` of their tokens), in the order they were added. */
export class UserDirectory {
  #kickstart;

  #byId = new Map();

  constructor(users) {
    this.#kickstart = users;
    this.reset();
  }

  /** The kickstart users as the kickstart made them (registrations, roles, active); others stay. */
  reset() {
    const registered = [...this.#byId.values()].filter((u) => !this.#kickstart.some((k) => k.id === u.id));
    this.#byId = new Map([...this.#kickstart.map((u) => structuredClone(u)), ...registered].map((u) => [u.id, u]));
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

  /** Creates an unverified user registered to `applicationId` with `roles`, as self-service registration does. */
  register({ email, password, firstName, lastName }, applicationId, roles) {
    const user = {
      id: randomUUID(),
      active: true,
      email,
      password,
      firstName,
      lastName,
      fullName: `${firstName} ${lastName}`,
      verified: false,
      insertInstant: Date.now(),
      registrations: [newRegistration(applicationId, roles)],
    };
    this.#byId.set(user.id, user);
    return user;
  }

  /** Registers `user` to `applicationId` with `roles` (a login to an application with self-service registration). */
  addRegistration(user, applicationId, roles) {
    const registration = newRegistration(applicationId, roles);
    user.registrations.push(registration);
    return registration;
  }

  /** Removes the registration of `user` for `applicationId`; answers it (undefined when there was none). */
  deleteRegistration(user, applicationId) {
    const registration = registrationOf(user, applicationId);
    user.registrations = user.registrations.filter((r) => r !== registration);
    return registration;
  }

  /** Replaces the roles of the registration; answers { original, registration } as copies. */
  setRoles(user, applicationId, roles) {
    const registration = registrationOf(user, applicationId);
    if (!registration) return undefined;
    const original = structuredClone(registration);
    registration.roles = [...roles];
    return { original, registration: structuredClone(registration) };
  }

  delete(user) { this.#byId.delete(user.id); }
}
