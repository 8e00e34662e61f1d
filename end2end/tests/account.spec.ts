// /account: the server asks FusionAuth about the user with the user's own access token (its
// userinfo endpoint) and renders the answer; the token itself never reaches the browser.
import { expect, test, type Page } from '@playwright/test';
import {
  APP_URL,
  CLIENT_ID,
  JWT_RE,
  RICHARD,
  TOKEN_FIELD_RE,
  captureAppBodies,
  expectLoginForm,
  signIn,
  submitAndReturn,
  watchProblems,
} from './helpers';

/** The account page of richard (the kickstart's demo user: name, verified email, role `user`). */
async function expectRichardsAccount(page: Page) {
  await expect(page.locator('h1')).toHaveText('Your account');
  await expect(page.locator('#account-name')).toHaveText('Richard Hendricks');
  await expect(page.locator('#account-email')).toHaveText(RICHARD.email);
  await expect(page.locator('#account-verified')).toHaveText('yes');
  await expect(page.locator('#account-registration')).toHaveText(CLIENT_ID);
  await expect(page.locator('#account-roles')).toHaveText('user');
  // The time of the sign-in this session came from, in minutes (FusionAuth's auth_time).
  await expect(page.locator('#account-signed-in')).toHaveText(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
}

test('a guest opening /account signs in and sees what FusionAuth knows of them, without a token in sight', async ({ page }) => {
  const problems = watchProblems(page);
  const capture = captureAppBodies(page);

  await page.goto('/account');
  await expectLoginForm(page);
  await submitAndReturn(page, RICHARD);
  expect(page.url()).toBe(`${APP_URL}/account`);
  await expectRichardsAccount(page);

  const { bodies, headerLeaks } = await capture.done();
  expect(bodies.map((b) => b.url)).toContain(`${APP_URL}/account`);
  const leaks = bodies.filter((b) => JWT_RE.test(b.body) || TOKEN_FIELD_RE.test(b.body)).map((b) => b.url);
  expect(leaks, 'app responses carrying a token').toEqual([]);
  expect(headerLeaks, 'app response headers carrying a token').toEqual([]);
  expect(problems, 'console errors / failed app responses').toEqual([]);
});

test('the profile links to the account page, and back', async ({ page }) => {
  const problems = watchProblems(page);
  await signIn(page);
  await page.getByRole('link', { name: 'Your account' }).click();
  await page.waitForURL(`${APP_URL}/account`);
  await expectRichardsAccount(page);
  await page.getByRole('link', { name: 'Back to the home page' }).click();
  await page.waitForURL(`${APP_URL}/`);
  await expect(page.getByRole('link', { name: 'Your account' })).toBeVisible();
  expect(problems, 'console errors / failed app responses').toEqual([]);
});
