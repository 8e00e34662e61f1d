import { expect, test } from '@playwright/test';
import {
  CONTROL_URL,
  REAL_FUSIONAUTH,
  clickLoginAndExpectForm,
  expectLoggedIn,
  gotoGuestHome,
  isAppUrl,
  loginButton,
  providerControl,
  submitCredentials,
  USER_EMAIL,
  USER_PASSWORD,
  waitForProviderUp,
  watchNavigations,
} from './helpers';

test.skip(REAL_FUSIONAUTH, 'needs the stand-in provider (its control port stops and starts it)');

test.afterEach(async ({ request }) => {
  // Never leave the shared provider down for the next spec.
  await request.post(`${CONTROL_URL}/start`).catch(() => undefined);
  await waitForProviderUp(request);
});

test('provider unreachable: Login shows a 503 error page, and works again once it is back', async ({ page, request }) => {
  await gotoGuestHome(page);
  await providerControl(request, 'stop');

  const navigations = watchNavigations(page);
  await loginButton(page).click();
  await expect(page.locator('h1')).toHaveText("We couldn't sign you in");
  await expect(page.locator('p.error-message')).toContainText('identity provider is unreachable');

  await test.step('the error page answers 503', async () => {
    // The document the browser ended on: the last main-frame response that is not a redirect.
    const landed = navigations.filter((n) => n.status < 300 || n.status >= 400).pop();
    if (landed && landed.url === page.url()) {
      expect(landed.status, landed.url).toBe(503);
    } else {
      // The page was reached without a document load (client-side navigation): ask the server.
      const res = await page.request.get(page.url());
      expect(res.status(), page.url()).toBe(503);
    }
  });

  await providerControl(request, 'start');
  await waitForProviderUp(request);

  await page.getByRole('link', { name: 'Back to the home page' }).click();
  await expect(page.locator('h1')).toHaveText('Hello Guest');
  await clickLoginAndExpectForm(page);
  await submitCredentials(page, USER_EMAIL, USER_PASSWORD);
  await page.waitForURL((u) => isAppUrl(u.href) && !u.pathname.startsWith('/callback'));
  await expectLoggedIn(page);
});
