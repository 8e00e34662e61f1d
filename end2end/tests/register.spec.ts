import { expect, test } from '@playwright/test';
import { APP_URL, CLIENT_ID, ISSUER, gotoGuestHome, isIssuerUrl, registerButton, watchNavigations, watchProblems } from './helpers';

test('Register goes to the provider registration page with PKCE, state and nonce', async ({ page }) => {
  const problems = watchProblems(page);
  await gotoGuestHome(page);

  const navigations = watchNavigations(page);
  const register = page.waitForRequest((r) => r.url().startsWith(`${ISSUER}/oauth2/register`));
  await registerButton(page).click();
  const url = new URL((await register).url());
  expect(url.origin + url.pathname).toBe(`${ISSUER}/oauth2/register`);
  const q = url.searchParams;
  expect(q.get('client_id')).toBe(CLIENT_ID);
  expect(q.get('response_type')).toBe('code');
  expect(q.get('redirect_uri')).toBe(`${APP_URL}/callback`);
  expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
  expect(q.get('code_challenge_method')).toBe('S256');
  expect(q.get('state')).toBeTruthy();
  expect(q.get('nonce')).toBeTruthy();

  // A provider page renders.
  await page.waitForURL((u) => isIssuerUrl(u.href));
  await page.waitForLoadState('load');
  const last = navigations[navigations.length - 1];
  expect(last, 'a provider page was loaded').toBeTruthy();
  expect(isIssuerUrl(last.url)).toBe(true);
  expect(last.status).toBeLessThan(400);
  await expect(page.locator('body')).not.toBeEmpty();

  expect(problems, 'console errors / failed app responses').toEqual([]);
});
