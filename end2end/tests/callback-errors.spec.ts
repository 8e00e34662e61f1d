import { expect, test, type Page } from '@playwright/test';
import { gotoGuestHome, isIssuerUrl, loginButton } from './helpers';

async function expectSignInErrorPage(page: Page) {
  await expect(page.locator('h1')).toHaveText("We couldn't sign you in");
  await expect(page.locator('p.error-message')).toBeVisible();
  await expect(page.locator('p.error-message')).not.toBeEmpty();
  await expect(page.getByRole('link', { name: 'Back to the home page' })).toBeVisible();
}

test('a callback with a forged state is refused (guest without a pending login)', async ({ page }) => {
  const res = await page.goto('/callback?code=x&state=forged');
  expect(res, 'a response').toBeTruthy();
  expect(res!.status()).toBeGreaterThanOrEqual(400);
  expect(res!.status()).toBeLessThan(500);
  await expectSignInErrorPage(page);

  await page.getByRole('link', { name: 'Back to the home page' }).click();
  await expect(page.locator('h1')).toHaveText('Hello Guest');
});

test('a callback with a forged state is refused while a real login is pending', async ({ page }) => {
  await gotoGuestHome(page);
  await loginButton(page).click();
  await page.waitForURL((u) => isIssuerUrl(u.href));
  // The user now has a pending login (state, nonce, PKCE verifier) but an attacker's link arrives.
  const res = await page.goto('/callback?code=attacker-code&state=forged');
  expect(res!.status()).toBeGreaterThanOrEqual(400);
  expect(res!.status()).toBeLessThan(500);
  await expectSignInErrorPage(page);
});

test('a callback without code or state is refused', async ({ page }) => {
  const res = await page.goto('/callback');
  expect(res!.status()).toBeGreaterThanOrEqual(400);
  expect(res!.status()).toBeLessThan(500);
  await expectSignInErrorPage(page);
});

test('an error returned by the provider (access_denied) shows the error page', async ({ page }) => {
  const description = 'The user cancelled <img src=x onerror="window.__xss=1">';
  const res = await page.goto(
    `/callback?error=access_denied&error_reason=user_cancelled&error_description=${encodeURIComponent(description)}&state=whatever`,
  );
  expect(res!.status()).toBeGreaterThanOrEqual(400);
  expect(res!.status()).toBeLessThan(500);
  await expectSignInErrorPage(page);
  // Whatever the page says about the description, it must not run it as markup.
  await page.waitForLoadState('load');
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
});
