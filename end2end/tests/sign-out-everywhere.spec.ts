import { expect, test } from '@playwright/test';
import { expectGuest, logOutHere, newBrowserContext, signIn, watchProblems } from './helpers';

test('Sign out everywhere in one browser ends the same user\'s session in another browser', async ({ browser, page }) => {
  const problems = watchProblems(page);
  // A second browser (its own cookies: its own app session and FusionAuth SSO session).
  const elsewhere = await newBrowserContext(browser);
  try {
    const other = await elsewhere.newPage();
    await signIn(other);
    await signIn(page);

    await logOutHere(page, { everywhere: true });

    // The other browser did nothing and still sends its session cookie; its next page view is
    // the guest page: the app ended every session of this user in its store.
    await other.reload();
    await expectGuest(other);
  } finally {
    await elsewhere.close();
  }
  expect(problems, 'console errors / failed app responses').toEqual([]);
});
