import { expect, test } from '@playwright/test';
import {
  APP_URL,
  CLIENT_ID,
  ISSUER,
  REAL_FUSIONAUTH,
  SESSION_COOKIE,
  USER_EMAIL,
  clickLoginAndExpectForm,
  isAppUrl,
  loginThroughForm,
  logoutButton,
  waitForHydration,
  watchProblems,
  watchWebhooks,
} from './helpers';

test('Logout ends both sessions: back to the guest view, and Login asks for the password again', async ({
  page,
  context,
  request,
}) => {
  const problems = watchProblems(page);
  await loginThroughForm(page);
  await waitForHydration(page);
  const before = (await context.cookies(APP_URL)).find((c) => c.name === SESSION_COOKIE);
  expect(before, `cookie ${SESSION_COOKIE}`).toBeTruthy();

  // The stand-in's webhook log (a real FusionAuth's deliveries are not visible to the suite).
  const webhooks = REAL_FUSIONAUTH ? undefined : await watchWebhooks(request);

  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const appLogout = page.waitForRequest((r) => isAppUrl(r.url()) && new URL(r.url()).pathname === '/logout');

  await logoutButton(page).click();
  await appLogout;
  await expect(page.locator('h1')).toHaveText('Hello Guest');
  expect(page.url()).toBe(`${APP_URL}/`);

  await test.step('the browser went through the provider logout and the app /logout', async () => {
    const providerLogout = requests.find((u) => u.startsWith(`${ISSUER}/oauth2/logout`));
    expect(providerLogout, `a request to ${ISSUER}/oauth2/logout among ${JSON.stringify(requests)}`).toBeTruthy();
    const q = new URL(providerLogout!).searchParams;
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('post_logout_redirect_uri')).toBe(`${APP_URL}/logout`);
    expect(q.get('id_token_hint')).toBeTruthy();
    expect(requests.some((u) => u.startsWith(`${APP_URL}/logout`))).toBe(true);
    // The provider logout comes before the app's /logout.
    expect(requests.indexOf(providerLogout!)).toBeLessThan(requests.findIndex((u) => u.startsWith(`${APP_URL}/logout`)));
  });

  const revoked = 'the refresh token was revoked at FusionAuth, whose signed webhook the app accepted';
  if (!webhooks) test.info().annotations.push({ type: 'skipped step', description: `${revoked} (needs the stand-in's delivery log)` });
  if (webhooks) await test.step(revoked, async () => {
    // FusionAuth's Logout API announces the revocation of that one token (with this application's
    // id) to the app's webhook; 200 = the signature verified and the app took it.
    const delivery = await webhooks.delivered(
      { type: 'jwt.refresh-token.revoke', loginId: USER_EMAIL, applicationId: CLIENT_ID },
      `a jwt.refresh-token.revoke of ${USER_EMAIL}'s token for this application`,
    );
    expect(delivery.url).toBe(`${APP_URL}/webhooks/fusionauth`);
    expect(delivery.status, `the app's answer to the webhook${delivery.error ? ` (${delivery.error})` : ''}`).toBe(200);
  });

  await test.step('the old session cookie no longer logs anyone in', async () => {
    await context.addCookies([before!]);
    await page.goto('/');
    await expect(page.locator('h1')).toHaveText('Hello Guest');
    await waitForHydration(page);
  });

  await test.step('Login shows the provider form again (its SSO session has ended)', async () => {
    await clickLoginAndExpectForm(page);
  });

  expect(problems, 'console errors / failed app responses').toEqual([]);
});
