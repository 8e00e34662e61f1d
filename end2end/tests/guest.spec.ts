import { expect, test } from '@playwright/test';
import { gotoGuestHome, loginButton, loginReturnTo, registerButton, screenshotPath, watchProblems } from './helpers';

test('a guest sees the greeting and the Login and Register buttons', async ({ page }) => {
  const problems = watchProblems(page);

  await gotoGuestHome(page);

  await expect(page.locator('h1')).toHaveText('Hello Guest');
  await expect(page.getByText('Please Login to see your profile')).toBeVisible();
  await expect(loginButton(page)).toBeVisible();
  await expect(registerButton(page)).toBeVisible();
  // The Login form remembers where the user was (contract: hidden input return_to).
  await expect(loginReturnTo(page)).toHaveValue('/');

  await page.screenshot({ path: screenshotPath('guest.png'), fullPage: true });
  expect(problems, 'console errors / failed app responses').toEqual([]);
});
