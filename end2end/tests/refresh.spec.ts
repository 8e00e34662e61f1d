import { expect, test } from '@playwright/test';
import { loginThroughForm, waitForHydration, watchProblems } from './helpers';

/** Seconds left, read from "Access token expires in 59:58" or "1:00:00". */
function secondsLeft(text: string | null): number {
  const match = /expires in (?:(\d+):)?(\d+):(\d{2})/.exec(text ?? '');
  if (!match) throw new Error(`no countdown in ${JSON.stringify(text)}`);
  const [, hours, minutes, seconds] = match;
  return Number(hours ?? 0) * 3600 + Number(minutes) * 60 + Number(seconds);
}

test('the access-token countdown ticks, and Refresh now renews it without a page reload', async ({ page }) => {
  const problems = watchProblems(page);
  await loginThroughForm(page);
  await waitForHydration(page);

  const expiry = page.locator('#token-expiry');
  const first = secondsLeft(await expiry.textContent());
  expect(first).toBeGreaterThan(60);

  // The countdown only moves once the wasm runs.
  await expect.poll(async () => secondsLeft(await expiry.textContent()), { timeout: 5_000 }).toBeLessThanOrEqual(first - 2);
  const beforeRefresh = secondsLeft(await expiry.textContent());

  // A marker that a full page load would wipe out.
  await page.evaluate(() => ((window as unknown as { __stillHere: boolean }).__stillHere = true));
  let documentLoads = 0;
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) documentLoads += 1;
  });

  await page.getByRole('button', { name: 'Refresh now', exact: true }).click();
  await expect.poll(async () => secondsLeft(await expiry.textContent()), { timeout: 10_000 }).toBeGreaterThan(beforeRefresh);

  expect(await page.evaluate(() => (window as unknown as { __stillHere?: boolean }).__stillHere)).toBe(true);
  expect(documentLoads, 'no navigation for Refresh now').toBe(0);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('You are logged in as');
  expect(problems, 'console errors / failed app responses').toEqual([]);
});
