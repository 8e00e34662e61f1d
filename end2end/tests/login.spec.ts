import { expect, test } from '@playwright/test';
import {
  APP_URL,
  CLIENT_ID,
  ISSUER,
  JWT_RE,
  SESSION_COOKIE,
  TOKEN_FIELD_RE,
  USER_EMAIL,
  USER_PASSWORD,
  captureAppBodies,
  clickLoginAndExpectForm,
  expectLoggedIn,
  gotoGuestHome,
  isAppUrl,
  loginIdInput,
  readClaims,
  screenshotPath,
  submitCredentials,
  waitForHydration,
  watchProblems,
} from './helpers';

test('login through the provider form shows the profile, survives a reload and leaks no token', async ({
  page,
  context,
}) => {
  const problems = watchProblems(page);
  const capture = captureAppBodies(page);

  await gotoGuestHome(page);

  await test.step('Login sends the browser to the authorize endpoint (code flow + PKCE S256)', async () => {
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${ISSUER}/oauth2/authorize`));
    await clickLoginAndExpectForm(page);
    const url = new URL((await authorize).url());
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENT_ID);
    expect(q.get('redirect_uri')).toBe(`${APP_URL}/callback`);
    expect(q.get('scope')?.split(' ')).toContain('openid');
    expect(q.get('state')).toBeTruthy();
    expect(q.get('nonce')).toBeTruthy();
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
    await page.screenshot({ path: screenshotPath('login.png'), fullPage: true });
  });

  await test.step('a wrong password is refused by the provider', async () => {
    await submitCredentials(page, USER_EMAIL, 'not-the-password');
    await expect(page.getByText('Invalid login credentials.')).toBeVisible();
    await expect(loginIdInput(page)).toBeVisible();
  });

  await test.step('the right password leads back to the profile', async () => {
    await submitCredentials(page, USER_EMAIL, USER_PASSWORD);
    await page.waitForURL((url) => isAppUrl(url.href) && !url.pathname.startsWith('/callback'));
    expect(new URL(page.url()).pathname).toBe('/');
    await expectLoggedIn(page);
    const claims = await readClaims(page);
    expect(claims.email).toBe(USER_EMAIL);
    expect(typeof claims.sub).toBe('string');
    expect(claims.sub).not.toBe('');
    await waitForHydration(page);
    await page.screenshot({ path: screenshotPath('profile.png'), fullPage: true });
  });

  await test.step('a reload keeps the login', async () => {
    await page.reload();
    await expectLoggedIn(page);
    expect((await readClaims(page)).email).toBe(USER_EMAIL);
    await waitForHydration(page);
  });

  await test.step('the session cookie is HttpOnly, SameSite=Lax and holds no token', async () => {
    const cookies = await context.cookies(APP_URL);
    const session = cookies.find((c) => c.name === SESSION_COOKIE);
    expect(session, `cookie ${SESSION_COOKIE} is set`).toBeTruthy();
    expect(session!.httpOnly).toBe(true);
    expect(session!.sameSite).toBe('Lax');
    for (const c of cookies) expect(JWT_RE.test(c.value), `cookie ${c.name} holds a JWT`).toBe(false);

    const documentCookie = await page.evaluate(() => document.cookie);
    expect(documentCookie).not.toContain(SESSION_COOKIE);
    expect(documentCookie).not.toMatch(JWT_RE);
  });

  await test.step('no token in the DOM, in web storage, or in any app response', async () => {
    const html = await page.content();
    expect(html).not.toMatch(JWT_RE);
    expect(html).not.toMatch(TOKEN_FIELD_RE);
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    expect(storage).not.toMatch(JWT_RE);

    const { bodies, headerLeaks } = await capture.done();
    expect(headerLeaks, 'response headers carrying a token').toEqual([]);
    // The capture must have seen the profile page itself, or it proves nothing.
    expect(bodies.some((b) => b.body.includes(`You are logged in as ${USER_EMAIL}`))).toBe(true);
    const leaks = bodies
      .filter((b) => JWT_RE.test(b.body) || TOKEN_FIELD_RE.test(b.body))
      .map((b) => `${b.status} ${b.url} (${b.contentType})`);
    expect(leaks, 'app responses containing a token').toEqual([]);
  });

  expect(problems, 'console errors / failed app responses').toEqual([]);
});
