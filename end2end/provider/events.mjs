// FusionAuth's event bodies, `{"event": {...}}`, for the events the stand-in sends, with
// FusionAuth's field names (docs: extend/events-and-webhooks/events/*; @fusionauth/typescript-client
// BaseEvent, JWTRefreshTokenRevokeEvent, UserDeactivateEvent, UserDeleteEvent,
// UserRegistrationDeleteEvent, UserRegistrationUpdateEvent). createInstant is epoch milliseconds.
import { randomUUID } from 'node:crypto';

import { fusionAuthRegistration, fusionAuthUser } from './users.mjs';

const envelope = (type, tenantId, fields) => ({
  event: { createInstant: Date.now(), id: randomUUID(), tenantId, type, ...fields },
});

/** The Refresh Token API's object for `record` (a refresh-tokens.mjs ledger record). */
function refreshTokenObject(record) {
  const { applicationId, id, insertInstant, scopes, startInstant, tenantId, token, userId } = record;
  return { applicationId, id, insertInstant, metaData: { device: {}, scopes }, startInstant, tenantId, token, userId };
}

/**
 * jwt.refresh-token.revoke for the revoked `records` of `user`. `single`: the one-token variant
 * (with applicationId and refreshToken); otherwise the all-tokens-of-a-user variant (without).
 * `ttlOf(applicationId)` is the application's access token lifetime.
 */
export function refreshTokenRevokeEvent({ tenantId, user, records, single, ttlOf }) {
  const applicationIds = [...new Set(records.map((r) => r.applicationId))];
  const fields = {
    applicationTimeToLiveInSeconds: Object.fromEntries(applicationIds.map((id) => [id, ttlOf(id)])),
    userId: user.id,
    user: fusionAuthUser(user, tenantId),
  };
  if (single) Object.assign(fields, { applicationId: records[0].applicationId, refreshToken: refreshTokenObject(records[0]) });
  return envelope('jwt.refresh-token.revoke', tenantId, fields);
}

/** user.deactivate or user.delete: the user as it is now (for user.delete: as it was). */
export function userEvent(type, user, tenantId) {
  return envelope(type, tenantId, { user: fusionAuthUser(user, tenantId) });
}

/** user.registration.delete: the deleted registration and the user without it. */
export function registrationDeleteEvent({ tenantId, user, registration }) {
  return envelope('user.registration.delete', tenantId, {
    applicationId: registration.applicationId,
    registration: fusionAuthRegistration(registration),
    user: fusionAuthUser(user, tenantId),
  });
}

/** user.registration.update: the registration before (`original`) and after. */
export function registrationUpdateEvent({ tenantId, user, original, registration }) {
  return envelope('user.registration.update', tenantId, {
    applicationId: registration.applicationId,
    original: fusionAuthRegistration(original),
    registration: fusionAuthRegistration(registration),
    user: fusionAuthUser(user, tenantId),
  });
}
