// Authorization the FusionAuth way: a registration for this application, its roles, and a
// role-protected page (/admin) that the server guards. Users of the kickstart: richard (role
// `user`), monica (`user`, `admin`), gilfoyle (no registration for this app).
import { expect, test } from '@playwright/test';
import {
  APP_URL,
  CLIENT_ID,
  GILFOYLE,
  MONICA,
  REAL_FUSIONAUTH,
  RICHARD,
  clickLoginAndExpectForm,
  control,
  expectAdminPage,
  expectGuest,
  expectLoggedIn,
  expectLoginForm,
  expectRoleMissingPage,
  gotoGuestHome,
  isAppUrl,
  resetProvider,
  rolesText,
  signIn,
  submitAndReturn,
  submitCredentials,
  userAction,
} from './helpers';

/** Monica's roles on the profile (in the order FusionAuth lists them). */
const ADMIN_AND_USER = /^Your roles here: (admin, user|user, admin)\.$/;

test('a user who is not registered for this application is refused: a 403 page, no session', async ({ page, context, request }) => {
  test.skip(REAL_FUSIONAUTH, 'needs the stand-in provider (its control port turns off "require registration")');
  // With "require registration" off, FusionAuth signs gilfoyle in anyway and issues tokens
  // without applicationId and roles: the app itself must refuse.
  await control(request, '/settings', { clientId: CLIENT_ID, requireRegistration: false, selfServiceRegistration: false });
  try {
    await gotoGuestHome(page);
    await clickLoginAndExpectForm(page);
    const refusal = page.waitForResponse((res) => isAppUrl(res.url()) && new URL(res.url()).pathname === '/auth/error');
    await submitCredentials(page, GILFOYLE.email, GILFOYLE.password);
    expect((await refusal).status()).toBe(403);
    expect(page.url()).toBe(`${APP_URL}/auth/error?reason=not_registered`);
    await expect(page.locator('h1')).toHaveText('Not registered for this application');
    await expect(page.getByRole('link', { name: 'Register for this application' })).toHaveAttribute('href', '/register');
    const someoneElse = page.getByRole('link', { name: 'Sign in as someone else' });
    await expect(someoneElse).toHaveAttribute('href', '/login?reauthenticate=always');

    // No session: the app's next page view (in another tab of this browser) is the guest page.
    const tab = await context.newPage();
    await tab.goto('/');
    await expectGuest(tab);
    await tab.close();

    // "Sign in as someone else": FusionAuth's form again despite its SSO session of gilfoyle.
    await someoneElse.click();
    await expectLoginForm(page);
    await submitAndReturn(page, RICHARD);
    await expectLoggedIn(page, RICHARD.email);
  } finally {
    await resetProvider(request);
  }
});

test('a user without the admin role gets a 403 "Not allowed" on /admin', async ({ page }) => {
  await signIn(page);
  await expect(rolesText(page)).toHaveText('Your roles here: user.');
  const res = await page.goto('/admin');
  expect(res!.status()).toBe(403);
  await expectRoleMissingPage(page);
});

test('a user with the admin role sees Administration', async ({ page }) => {
  await signIn(page, { user: MONICA });
  await expect(rolesText(page)).toHaveText(ADMIN_AND_USER);
  await page.getByRole('link', { name: 'Administration' }).click();
  await page.waitForURL(`${APP_URL}/admin`);
  await expectAdminPage(page, MONICA.email);
});

test('a guest opening /admin is sent through FusionAuth\'s form and comes back to /admin', async ({ page }) => {
  await page.goto('/admin');
  await expectLoginForm(page);
  await submitAndReturn(page, MONICA);
  expect(page.url()).toBe(`${APP_URL}/admin`);
  await expectAdminPage(page, MONICA.email);
});

test('roles changed at FusionAuth count from the next request (its user.registration.update event)', async ({ page, request }) => {
  test.skip(REAL_FUSIONAUTH, 'needs the stand-in provider (its control port changes the roles)');
  try {
    await signIn(page, { user: MONICA });
    await expect(rolesText(page)).toHaveText(ADMIN_AND_USER);

    // An administrator takes the admin role away at FusionAuth, which tells the app's webhook.
    const outcome = await userAction(request, 'set-roles', { loginId: MONICA.email, clientId: CLIENT_ID, roles: ['user'] });
    expect(outcome.webhooks.map((w) => [w.type, w.status])).toEqual([['user.registration.update', 200]]);
    // The session refreshes its tokens at its next request, and the roles follow at once.
    await page.reload();
    await expect(rolesText(page)).toHaveText('Your roles here: user.');
    // The server's guard reads the same roles.
    const res = await page.goto('/admin');
    expect(res!.status()).toBe(403);
    await expectRoleMissingPage(page);
  } finally {
    await resetProvider(request);
  }
});
