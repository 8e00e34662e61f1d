// examples/minimal in a real browser against the stand-in provider: the whole login with
// nothing but the library's public API — guest page, Login through FusionAuth's form, the
// user's name, a server function guarded by a role (granted, then refused once FusionAuth takes
// the role away), Logout — and no token in any page or readable cookie.
import { expect, test, type Page } from '@playwright/test';

import { CLIENT_ID, JWT_RE, RICHARD, resetProvider, submitCredentials, userAction } from '../tests/helpers';

/** The islands' buttons call their server functions once the wasm is live (fetched, then quiet). */
const hydrated = (page: Page) => page.waitForLoadState('networkidle');

test.afterEach(async ({ request }) => {
  await resetProvider(request);
});

test('a guest signs in, uses the role-guarded server function, and signs out', async ({ page, request, context }) => {
  await page.goto('/');
  await expect(page.locator('h1')).toHaveText('Hello Guest');
  await hydrated(page);

  await page.getByRole('button', { name: 'Login' }).click();
  await expect(page.locator('input#loginId')).toBeVisible();
  await submitCredentials(page, RICHARD.email, RICHARD.password);
  await expect(page.locator('h1')).toHaveText('Hello Richard Hendricks');
  await hydrated(page);

  const members = page.getByRole('button', { name: "Enter the members' area" });
  await members.click();
  await expect(page.locator('#members')).toHaveText(`Welcome to the members' area, ${RICHARD.email}.`);

  // FusionAuth takes the role away: the next call is refused with a 403 that names it.
  await userAction(request, 'set-roles', { loginId: RICHARD.email, clientId: CLIENT_ID, roles: [] });
  const refused = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/members_only');
  await members.click();
  expect((await refused).status()).toBe(403);
  await expect(page.locator('#members')).toContainText('needs the \u201cuser\u201d role');

  const html = await page.content();
  expect(html).not.toMatch(JWT_RE);
  for (const cookie of await context.cookies()) {
    expect(cookie.httpOnly, cookie.name).toBe(true);
    expect(cookie.value).not.toMatch(JWT_RE);
  }

  await page.getByRole('button', { name: 'Logout' }).click();
  await page.waitForURL((url) => url.pathname === '/');
  await expect(page.locator('h1')).toHaveText('Hello Guest');
});

test('a failed sign-in lands on a page that says what went wrong, with a 4xx', async ({ page }) => {
  const res = await page.goto('/callback?state=forged&code=x');
  expect(page.url()).toContain('/auth/error?reason=invalid_state');
  expect(res!.status()).toBe(400);
  await expect(page.getByRole('alert')).toContainText('does not belong to a sign-in started here');
});

test('a guest calling the guarded server function gets no data', async ({ request }) => {
  const res = await request.post('/api/members_only', { headers: { origin: new URL(test.info().project.use.baseURL!).origin } });
  expect(res.status()).toBeGreaterThanOrEqual(300);
  expect(await res.text()).not.toContain('Welcome');
});
