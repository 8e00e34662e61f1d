// Step-up: /admin needs a sign-in no older than STEP_UP_MAX_AGE_SECS (short in this suite, see
// support/env.mjs). An older one is sent through FusionAuth with prompt=login and max_age: the
// password form again, whatever FusionAuth's SSO session, then back to /admin.
import { expect, test } from '@playwright/test';
import {
  APP_URL,
  ISSUER,
  MONICA,
  STEP_UP_MAX_AGE_SECS,
  expectAdminPage,
  expectLoginForm,
  signIn,
  submitAndReturn,
  watchProblems,
} from './helpers';

test('a sign-in older than the step-up window must type the password again before /admin', async ({ page }) => {
  const problems = watchProblems(page);
  await signIn(page, { user: MONICA });
  // FusionAuth's auth_time is at most now.
  const signedInBy = Date.now();

  await test.step('a fresh sign-in opens /admin', async () => {
    await page.goto('/admin');
    await expectAdminPage(page, MONICA.email);
  });

  await test.step(`${STEP_UP_MAX_AGE_SECS} s later, /admin sends the browser to FusionAuth with prompt=login and max_age`, async () => {
    await page.waitForTimeout(Math.max(0, signedInBy + (STEP_UP_MAX_AGE_SECS + 1.5) * 1000 - Date.now()));
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${ISSUER}/oauth2/authorize`));
    await page.goto('/admin');
    const query = new URL((await authorize).url()).searchParams;
    expect(query.get('prompt')).toBe('login');
    expect(query.get('max_age')).toBe(String(STEP_UP_MAX_AGE_SECS));
    // The form, although FusionAuth's SSO session of monica is alive.
    await expectLoginForm(page);
  });

  await test.step('the password typed again leads back to /admin', async () => {
    await submitAndReturn(page, MONICA);
    expect(page.url()).toBe(`${APP_URL}/admin`);
    await expectAdminPage(page, MONICA.email);
  });

  expect(problems, 'console errors / failed app responses').toEqual([]);
});
