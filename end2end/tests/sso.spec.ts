import { expect, test } from '@playwright/test';
import {
  APP_URL,
  ISSUER,
  SESSION_COOKIE,
  expectLoggedIn,
  gotoGuestHome,
  isAppUrl,
  isIssuerUrl,
  loginButton,
  loginThroughForm,
  readClaims,
  USER_EMAIL,
  watchProblems,
} from './helpers';

test('the provider session is reused: losing only the app cookie, Login skips the form', async ({ browser }) => {
  const context = await browser.newContext({ baseURL: APP_URL, viewport: { width: 1000, height: 700 } });
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);

    await loginThroughForm(page);

    // Drop only the app's session cookie; the provider's SSO cookies stay.
    await context.clearCookies({ name: SESSION_COOKIE });
    expect((await context.cookies(APP_URL)).map((c) => c.name)).not.toContain(SESSION_COOKIE);
    expect((await context.cookies(ISSUER)).length, 'provider SSO cookies').toBeGreaterThan(0);

    await gotoGuestHome(page);

    // Every provider page shown from now on: none of them may be the login form.
    const providerPages: Promise<{ url: string; body: string }>[] = [];
    page.on('response', (res) => {
      const req = res.request();
      if (req.isNavigationRequest() && req.frame() === page.mainFrame() && isIssuerUrl(res.url()) && res.status() < 300) {
        providerPages.push(res.text().then((body) => ({ url: res.url(), body }), () => ({ url: res.url(), body: '' })));
      }
    });

    await loginButton(page).click();
    await page.waitForURL((url) => isAppUrl(url.href) && !url.pathname.startsWith('/callback'));
    await expectLoggedIn(page);
    expect((await readClaims(page)).email).toBe(USER_EMAIL);

    const formsShown = (await Promise.all(providerPages)).filter((p) => /id=["']?loginId\b/.test(p.body)).map((p) => p.url);
    expect(formsShown, 'provider pages that showed the login form').toEqual([]);
    expect(problems, 'console errors / failed app responses').toEqual([]);
  } finally {
    await context.close();
  }
});
