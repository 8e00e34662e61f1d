// FusionAuth's signed webhooks end the app's sessions (the back channel FusionAuth offers instead
// of OpenID back-channel logout): an administrator acts at FusionAuth (here: the stand-in's control
// port), FusionAuth sends the signed event, the app accepts it (200) and ends the user's sessions,
// and the signed-in page turns into the guest page on the next view.
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import {
  CLIENT_ID,
  REAL_FUSIONAUTH,
  USER_EMAIL,
  expectGuest,
  resetProvider,
  signIn,
  userAction,
  type UserActionOutcome,
} from './helpers';

test.skip(REAL_FUSIONAUTH, 'needs the stand-in provider (its control port acts as FusionAuth\'s administrator)');

test.afterEach(async ({ request }) => {
  // Whatever happened: the user active, registered and with the kickstart's roles again.
  await resetProvider(request);
});

/** Signed in; then `act` at FusionAuth; the event it sent was accepted; the next view is the guest page. */
async function expectSessionEndedBy(page: Page, request: APIRequestContext, type: string, act: () => Promise<UserActionOutcome>) {
  await signIn(page);
  const outcome = await act();
  expect(outcome.webhooks.map((w) => [w.type, w.url, w.status]), 'the signed event, accepted by the app').toEqual([
    [type, `${new URL(page.url()).origin}/webhooks/fusionauth`, 200],
  ]);
  await page.goto('/');
  await expectGuest(page);
}

test('an administrator revoking the user\'s sessions (jwt.refresh-token.revoke) ends the session', async ({ page, request }) => {
  await expectSessionEndedBy(page, request, 'jwt.refresh-token.revoke', () =>
    userAction(request, 'revoke-user-sessions', { loginId: USER_EMAIL }),
  );
});

test('deactivating the user (user.deactivate) ends the session', async ({ page, request }) => {
  await expectSessionEndedBy(page, request, 'user.deactivate', () => userAction(request, 'deactivate-user', { loginId: USER_EMAIL }));
  await userAction(request, 'reactivate-user', { loginId: USER_EMAIL });
});

test('deleting the user\'s registration for this app (user.registration.delete) ends the session', async ({ page, request }) => {
  await expectSessionEndedBy(page, request, 'user.registration.delete', () =>
    userAction(request, 'delete-registration', { loginId: USER_EMAIL, clientId: CLIENT_ID }),
  );
});
