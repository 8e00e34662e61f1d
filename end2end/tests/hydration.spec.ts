import { expect, test } from '@playwright/test';
import { loginThroughForm, waitForHydration, watchProblems } from './helpers';

test('after hydration the claims can be hidden and shown again', async ({ page }) => {
  const problems = watchProblems(page);
  await loginThroughForm(page);

  await waitForHydration(page);
  const marked = await page.evaluate(() => performance.getEntriesByName('hydrated', 'mark').length);
  expect(marked, 'performance.mark("hydrated")').toBeGreaterThan(0);

  const claims = page.locator('pre#claims');
  await expect(claims).toBeVisible();

  await page.getByRole('button', { name: 'Hide claims', exact: true }).click();
  await expect(claims).toBeHidden();
  await expect(page.getByRole('button', { name: 'Show claims', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Hide claims', exact: true })).toHaveCount(0);

  await page.getByRole('button', { name: 'Show claims', exact: true }).click();
  await expect(claims).toBeVisible();
  await expect(page.getByRole('button', { name: 'Hide claims', exact: true })).toBeVisible();

  expect(problems, 'console errors / failed app responses').toEqual([]);
});
