// Which ways of logging out end this app's session, in both deployments (playwright.config.ts runs
// this spec in the `same-site` and the `cross-site` project): the app and FusionAuth on one site
// (localhost), or on two (app on 127.0.0.1, FusionAuth on localhost). Each test asserts what the
// user sees on this app's next page view, and which mechanism did it: the front-channel iframe of
// FusionAuth's logout page (does it carry the app's SameSite=Lax session cookie?) and, with the
// stand-in, FusionAuth's signed webhook (delivered, answered 200). The table in ../README.md
// ("Logout across applications and sites") is this spec's result.
import type { APIRequestContext, Page } from '@playwright/test';

import {
  CLIENT_ID,
  REAL_FUSIONAUTH,
  USER_EMAIL,
  expect,
  expectGuest,
  expectLoggedIn,
  logOutHere,
  logOutOfOtherApp,
  signIn,
  signInToOtherApp,
  test,
  watchFrontChannelLogout,
  watchWebhooks,
  type Deployment,
} from './helpers';

/** The stand-in's webhook log from now on (nothing to watch against a real FusionAuth). */
async function webhooksFrom(request: APIRequestContext, deployment: Deployment) {
  return REAL_FUSIONAUTH ? undefined : watchWebhooks(request, deployment);
}

/**
 * Signed in here and in the other application of the tenant; from then on, the stand-in's webhook
 * log and the front-channel requests of FusionAuth's logout page are watched.
 */
async function signedInHereAndInTheOtherApp(page: Page, request: APIRequestContext, deployment: Deployment) {
  await signIn(page, { deployment });
  await signInToOtherApp(page, deployment);
  const webhooks = await webhooksFrom(request, deployment);
  return { webhooks, frontChannel: watchFrontChannelLogout(page, deployment) };
}

/** This app's next page view. */
async function nextPageView(page: Page, deployment: Deployment) {
  await page.goto(`${deployment.appUrl}/`);
}

test('Logout here ends the session here', async ({ page, request, deployment }) => {
  await signIn(page, { deployment });
  const webhooks = await webhooksFrom(request, deployment);

  await logOutHere(page, { deployment });

  await nextPageView(page, deployment);
  await expectGuest(page);
  // The app deleted the session itself and revoked its refresh token at FusionAuth, whose
  // webhook about that one token the app accepted (nothing left to end by then).
  await webhooks?.delivered(
    { type: 'jwt.refresh-token.revoke', loginId: USER_EMAIL, applicationId: CLIENT_ID, status: 200 },
    'the revocation of the session\'s refresh token, announced to the app and accepted',
  );
});

test('Logout in the other application, without revocation: ends the session here only on the same site', async ({
  page,
  request,
  deployment,
}) => {
  const { webhooks, frontChannel } = await signedInHereAndInTheOtherApp(page, request, deployment);

  await logOutOfOtherApp(page, { deployment });

  // FusionAuth's logout page loaded this app's logout URL in its hidden iframe either way; the
  // browser sends the SameSite=Lax session cookie into it only when FusionAuth is on this app's site.
  const framed = await frontChannel.requests();
  expect(framed.length, 'FusionAuth\'s logout page framed this app\'s /logout').toBeGreaterThan(0);
  expect(framed.map((r) => r.withSessionCookie)).toContain(deployment.sameSite);

  await nextPageView(page, deployment);
  if (deployment.sameSite) {
    // Ended by the front channel.
    await expectGuest(page);
  } else {
    // The documented limitation: only FusionAuth's SSO session ended. Nothing was revoked, no
    // webhook was sent, and the iframe came without a cookie: this app cannot know, and the user
    // is still signed in here (until the session's idle timeout or absolute lifetime).
    await expectLoggedIn(page);
  }
  if (webhooks) expect(await webhooks.fresh(), 'no webhook: nothing was revoked').toEqual([]);
});

test('Logout everywhere in the other application (global revocation) ends the session here', async ({
  page,
  request,
  deployment,
}) => {
  const { webhooks, frontChannel } = await signedInHereAndInTheOtherApp(page, request, deployment);

  await logOutOfOtherApp(page, { everywhere: true, deployment });
  // FusionAuth revoked every refresh token of the user and announced it (the all-tokens variant,
  // without applicationId): the webhook ends this app's sessions, whatever the site.
  await webhooks?.delivered(
    { type: 'jwt.refresh-token.revoke', loginId: USER_EMAIL, applicationId: undefined, status: 200 },
    'the global revocation, announced to the app and accepted',
  );

  await nextPageView(page, deployment);
  await expectGuest(page);
  if (!deployment.sameSite) {
    // Cross-site, the iframe could not have done it.
    expect((await frontChannel.requests()).map((r) => r.withSessionCookie)).not.toContain(true);
  }
});

test('Sign out everywhere here ends the session here', async ({ page, request, deployment }) => {
  await signIn(page, { deployment });
  const webhooks = await webhooksFrom(request, deployment);

  await logOutHere(page, { everywhere: true, deployment });

  await nextPageView(page, deployment);
  await expectGuest(page);
  // The app ended every session of the user in its store itself, and revoked every refresh token
  // of the user at FusionAuth, whose webhook it accepted too.
  await webhooks?.delivered(
    { type: 'jwt.refresh-token.revoke', loginId: USER_EMAIL, applicationId: undefined, status: 200 },
    'the global revocation, announced to the app and accepted',
  );
});
