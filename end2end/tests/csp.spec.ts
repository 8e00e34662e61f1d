import { expect, test, type Page } from '@playwright/test';
import { APP_URL, ISSUER, loginThroughForm, waitForHydration, watchProblems } from './helpers';

/**
 * Records every Content-Security-Policy violation the browser reports on app pages (the
 * `securitypolicyviolation` event fires for each blocked script, style, connection or form).
 */
async function recordViolations(page: Page) {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => {
      seen.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`);
    });
  });
}

async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? []);
}

test('every page works under the Content-Security-Policy, without a single violation', async ({ page }) => {
  const problems = watchProblems(page);
  await recordViolations(page);
  const policies: string[] = [];
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.url().startsWith(APP_URL) && res.status() < 300) {
      policies.push(res.headers()['content-security-policy'] ?? '');
    }
  });

  await loginThroughForm(page);
  await waitForHydration(page);
  // The islands work: the claims toggle is wasm, run under 'wasm-unsafe-eval' and the nonce.
  await page.getByRole('button', { name: 'Hide claims', exact: true }).click();
  await expect(page.locator('pre#claims')).toBeHidden();
  expect(await violations(page), 'violations on the profile').toEqual([]);

  for (const path of ['/auth/error?reason=invalid_state', '/no/such/page']) {
    await page.goto(path);
    await waitForHydration(page);
    expect(await violations(page), `violations on ${path}`).toEqual([]);
  }

  expect(policies.length).toBeGreaterThan(0);
  for (const policy of policies) {
    expect(policy).toMatch(/script-src 'self' 'nonce-[\w-]+' 'wasm-unsafe-eval'/);
    expect(policy).toContain(`form-action 'self' ${new URL(ISSUER).origin}`);
    expect(policy).toContain("frame-ancestors 'none'");
  }
  // The error and 404 pages answer 4xx on purpose; anything else in the console is a problem
  // (Chromium also logs every CSP refusal there: "Refused to …").
  const expected4xx = (p: string) => p.startsWith('HTTP 4') || /responded with a status of 4\d\d/.test(p);
  expect(problems.filter((p) => !expected4xx(p)), 'console errors').toEqual([]);
});
