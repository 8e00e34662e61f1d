import { expect, test } from '@playwright/test';
import {
  APP_URL,
  USER_EMAIL,
  USER_PASSWORD,
  clickLoginAndExpectForm,
  expectLoggedIn,
  gotoGuestHome,
  isAppUrl,
  isIssuerUrl,
  loginButton,
  loginIdInput,
  loginReturnTo,
  submitCredentials,
  watchProblems,
} from './helpers';

test('a deep link survives the login round trip', async ({ page }) => {
  const problems = watchProblems(page);
  await gotoGuestHome(page, '/?section=claims');
  await expect(loginReturnTo(page)).toHaveValue('/?section=claims');

  await clickLoginAndExpectForm(page);
  await submitCredentials(page, USER_EMAIL, USER_PASSWORD);
  await page.waitForURL((u) => isAppUrl(u.href) && !u.pathname.startsWith('/callback'));
  expect(page.url()).toBe(`${APP_URL}/?section=claims`);
  await expectLoggedIn(page);

  expect(problems, 'console errors / failed app responses').toEqual([]);
});

for (const target of ['https://evil.example/', '//evil.example/', '/\\evil.example/']) {
  test(`return_to cannot send the user off-site (${target})`, async ({ page }) => {
    await gotoGuestHome(page);
    // A tampered form: only the return_to value changes, the rest of the form stays genuine.
    await loginReturnTo(page).evaluate((el, v) => ((el as HTMLInputElement).value = v), target);
    await loginButton(page).click();
    // Either the app ignores/normalises the value and the login goes on at the provider,
    // or it refuses the form on its own origin; it must never send the browser elsewhere.
    await page.waitForURL((u) => isIssuerUrl(u.href) || (isAppUrl(u.href) && u.pathname !== '/'));
    if (isAppUrl(page.url())) {
      await expect(page.locator('h1')).not.toHaveText(/You are logged in/);
      return;
    }
    await expect(loginIdInput(page)).toBeVisible();
    await submitCredentials(page, USER_EMAIL, USER_PASSWORD);
    // Wait until the browser has left the provider and the callback, wherever it went.
    await page.waitForURL((u) => !isIssuerUrl(u.href) && !u.pathname.startsWith('/callback'));
    expect(isAppUrl(page.url()), `ended on ${page.url()}`).toBe(true);
    await expectLoggedIn(page);
  });
}
