import { expect, test } from '@playwright/test';
import {
  APP_URL,
  ISSUER,
  REAL_FUSIONAUTH,
  USER_EMAIL,
  expectLoggedIn,
  loginThroughForm,
  providerControl,
  readClaims,
} from './helpers';

test.skip(REAL_FUSIONAUTH, 'needs the stand-in provider (its control port rotates the signing key)');

test('after the provider rotates its signing key a fresh login still works', async ({ browser, page, request }) => {
  const kids = async () => {
    const res = await request.get(`${ISSUER}/.well-known/jwks.json`);
    expect(res.ok()).toBe(true);
    return ((await res.json()) as { keys: { kid?: string }[] }).keys.map((k) => k.kid ?? '');
  };

  // A first login, so the app has fetched (and may have cached) the current key.
  await loginThroughForm(page);
  const before = await kids();

  await providerControl(request, 'rotate-key');
  const after = await kids();
  expect(after.filter((k) => !before.includes(k)), `new kid in ${JSON.stringify(after)}`).not.toEqual([]);

  // A new user agent logs in: its ID token is signed with the new key.
  const context = await browser.newContext({ baseURL: APP_URL, viewport: { width: 1000, height: 700 } });
  try {
    const fresh = await context.newPage();
    await loginThroughForm(fresh);
    expect((await readClaims(fresh)).email).toBe(USER_EMAIL);
  } finally {
    await context.close();
  }

  // The first session lives on (the app's session does not depend on the old key).
  await page.reload();
  await expectLoggedIn(page);
});
