// The cookies the stand-in sets, named as FusionAuth names them. Signed (keygrip), lax and not
// Secure: the provider and the app both run on http://localhost in dev.

export const SESSION_COOKIE = 'fusionauth.sso';

export const COOKIE_NAMES = {
  session: SESSION_COOKIE,
  interaction: 'fusionauth.interaction',
  resume: 'fusionauth.interaction.resume',
};

export const LONG_COOKIE = { httpOnly: true, sameSite: 'lax', signed: true, secure: false };
export const SHORT_COOKIE = { httpOnly: true, sameSite: 'lax', signed: true, secure: false };
