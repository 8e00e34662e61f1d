import { test as base, expect, type APIRequestContext, type Browser, type Page, type Response } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { demoUser, deployments, stepUpMaxAgeSecs, suiteSettings, type Deployment } from '../support/env.mjs';

export type { Deployment };

// The values playwright.config.ts gives the app (../.env.example, the environment, FUSIONAUTH_URL).
const suite = suiteSettings();
/** Where the app, FusionAuth and the other application run by default (support/env.mjs; projects may set another `deployment`). */
export const { sameSite: SAME_SITE } = deployments();
export const APP_URL = SAME_SITE.appUrl;
export const ISSUER = SAME_SITE.issuer;
export const CLIENT_ID = suite.clientId;
/** Control port of the stand-in provider (POST /rotate-key, /stop, /start; GET /health). */
export const CONTROL_URL = SAME_SITE.controlUrl;
/** Set when the suite runs against a real FusionAuth: stand-in-only tests are skipped. */
export const REAL_FUSIONAUTH = !!process.env.FUSIONAUTH_URL;
/**
 * Set (E2E_PROVISIONED_BY=setup) when that FusionAuth was provisioned by `leptos-fusionauth setup`
 * rather than the kickstart: it has only the demo user and this app, so the tests of the
 * kickstart's other users and of its other application skip themselves. Anywhere else such a test
 * fails when FusionAuth lacks them (a broken kickstart must not pass as skipped).
 */
export const PROVISIONED_BY_SETUP = process.env.E2E_PROVISIONED_BY === 'setup';
/** The app's STEP_UP_MAX_AGE_SECS in this suite. */
export const STEP_UP_MAX_AGE_SECS = stepUpMaxAgeSecs();

/** Options a project sets (playwright.config.ts): the deployment its specs run against. */
export interface DeploymentOptions {
  deployment: Deployment;
}

/**
 * `test` with the `deployment` fixture: the project's deployment (same-site unless the project
 * says otherwise). Specs that run in more than one deployment use this `test`.
 */
export const test = base.extend<DeploymentOptions>({
  deployment: [SAME_SITE, { option: true }],
});
export { expect };

/** A user of the kickstart: email and password. */
export interface Credentials {
  email: string;
  password: string;
}
/** The kickstart's demo user (E2E_USER_EMAIL, E2E_USER_PASSWORD override it): role `user`, registered for both applications. */
export const { email: USER_EMAIL, password: USER_PASSWORD } = demoUser();
export const RICHARD: Credentials = { email: USER_EMAIL, password: USER_PASSWORD };
/** The kickstart's administrator of this app: roles `user` and `admin` (kickstart only, not made by `setup`). */
export const MONICA: Credentials = { email: 'monica@example.com', password: 'password' };
/** A kickstart user with no registration for this app. */
export const GILFOYLE: Credentials = { email: 'gilfoyle@example.com', password: 'password' };

export const SESSION_COOKIE = 'leptos_fusionauth_session';

/** A JWT (header.payload.signature, base64url, header starting with `{"`). */
export const JWT_RE = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;
/** A serialised token set (what the Flask tutorial leaked through its signed cookie). */
export const TOKEN_FIELD_RE = /"(?:access_token|refresh_token|id_token)"\s*:/;

export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
export const screenshotPath = (name: string) => path.join(SCREENSHOT_DIR, name);

function hasOrigin(url: string, base: string): boolean {
  try {
    return new URL(url).origin === new URL(base).origin;
  } catch {
    return false;
  }
}

/** A URL of the app (of the same-site deployment unless `deployment` says otherwise). */
export const isAppUrl = (url: string, deployment: Deployment = SAME_SITE) => hasOrigin(url, deployment.appUrl);
/** A URL of FusionAuth. */
export const isIssuerUrl = (url: string, deployment: Deployment = SAME_SITE) => hasOrigin(url, deployment.issuer);
/** A URL of the other application. */
export const isOtherAppUrl = (url: string, deployment: Deployment = SAME_SITE) => hasOrigin(url, deployment.otherAppUrl);

// ---------------------------------------------------------------------------------------------
// Page objects

export const loginButton = (page: Page) => page.getByRole('button', { name: 'Login', exact: true });
export const registerButton = (page: Page) => page.getByRole('button', { name: 'Register', exact: true });
/** The hidden return_to input of the form that holds the Login button. */
export const loginReturnTo = (page: Page) =>
  page.locator('form', { has: loginButton(page) }).locator('input[name="return_to"]');
export const logoutButton = (page: Page) => page.getByRole('button', { name: 'Logout', exact: true });
/** FusionAuth's hosted login form (and the stand-in's copy of it). */
export const loginIdInput = (page: Page) => page.locator('input#loginId');
export const passwordInput = (page: Page) => page.locator('input#password');
export const submitButton = (page: Page) => page.getByRole('button', { name: 'Submit' });

export async function waitForHydration(page: Page) {
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}

/** Open the app's home page as a guest and wait until the wasm has hydrated it. */
export async function gotoGuestHome(page: Page, pathAndQuery = '/') {
  await page.goto(pathAndQuery);
  await expectGuest(page);
  await waitForHydration(page);
}

/** The guest page: what a visitor without a session sees at `/`. */
export async function expectGuest(page: Page) {
  await expect(page.locator('h1')).toHaveText('Hello Guest');
}

/** Click Login (or Register) and wait for the provider's page. */
export async function clickLoginAndExpectForm(page: Page, deployment: Deployment = SAME_SITE) {
  await loginButton(page).click();
  await expectLoginForm(page, deployment);
}

/** FusionAuth's login form is shown. */
export async function expectLoginForm(page: Page, deployment: Deployment = SAME_SITE) {
  await page.waitForURL((url) => isIssuerUrl(url.href, deployment));
  await expect(loginIdInput(page)).toBeVisible();
  await expect(passwordInput(page)).toBeVisible();
}

export async function submitCredentials(page: Page, email: string, password: string) {
  await loginIdInput(page).fill(email);
  await passwordInput(page).fill(password);
  await submitButton(page).click();
}

/**
 * Submit `user`'s credentials on FusionAuth's form and wait until the browser is back at the app
 * (past /callback). On a FusionAuth provisioned by `setup` (PROVISIONED_BY_SETUP), a kickstart
 * user other than the demo user does not exist: the test is skipped then.
 */
export async function submitAndReturn(page: Page, user: Credentials, deployment: Deployment = SAME_SITE) {
  await submitCredentials(page, user.email, user.password);
  const backAtApp = (url: URL) => isAppUrl(url.href, deployment) && !url.pathname.startsWith('/callback');
  if (PROVISIONED_BY_SETUP && user.email !== USER_EMAIL) {
    const refused = await Promise.race([
      page.waitForURL(backAtApp, { timeout: 15_000 }).then(() => false, () => false),
      page.getByText('Invalid login credentials.').waitFor({ timeout: 15_000 }).then(() => true, () => false),
    ]);
    test.skip(refused, `${user.email} does not exist on this FusionAuth (a kickstart user; \`setup\` creates only the demo user)`);
  }
  await page.waitForURL(backAtApp);
}

export async function expectLoggedIn(page: Page, email = USER_EMAIL) {
  await expect(page.locator('h1')).toHaveText(`You are logged in as ${email}`);
  await expect(page.locator('h2')).toHaveText('Here is your OpenID profile');
}

/**
 * Full login from the guest home page (`path`, default `/`) through the provider form back to the
 * profile, as `user` (default: the demo user), in `deployment` (default: same-site).
 */
export async function signIn(page: Page, { user = RICHARD, path: pathAndQuery = '/', deployment = SAME_SITE } = {}) {
  await gotoGuestHome(page, new URL(pathAndQuery, deployment.appUrl).href);
  await clickLoginAndExpectForm(page, deployment);
  await submitAndReturn(page, user, deployment);
  await expectLoggedIn(page, user.email);
}

/** Full login as the demo user from the guest home page through the provider form back to the profile. */
export async function loginThroughForm(page: Page, pathAndQuery = '/') {
  await signIn(page, { path: pathAndQuery });
}

/** A new browser (context) on `deployment`'s app, the same size as the configured one. */
export async function newBrowserContext(browser: Browser, deployment: Deployment = SAME_SITE) {
  return browser.newContext({ baseURL: deployment.appUrl, viewport: { width: 1000, height: 700 } });
}

// ---------------------------------------------------------------------------------------------
// The profile page, the role-protected pages and the error pages

export const signOutEverywhereButton = (page: Page) => page.getByRole('button', { name: 'Sign out everywhere', exact: true });
export const refreshNowButton = (page: Page) => page.getByRole('button', { name: 'Refresh now', exact: true });
/** Click "Refresh now" on the profile and wait until the app has refreshed the tokens (POST /api/refresh). */
export async function refreshNow(page: Page) {
  await waitForHydration(page);
  const refreshed = page.waitForResponse((res) => isAppUrl(res.url()) && new URL(res.url()).pathname === '/api/refresh');
  await refreshNowButton(page).click();
  expect((await refreshed).status(), 'POST /api/refresh').toBe(200);
}

/** "Your roles here: user." / "You have no roles in this application." on the profile. */
export const rolesText = (page: Page) => page.locator('#roles');

/** Click Logout (or Sign out everywhere) and wait until FusionAuth's logout page has sent the browser back to the guest page. */
export async function logOutHere(page: Page, { everywhere = false, deployment = SAME_SITE } = {}) {
  await waitForHydration(page);
  await (everywhere ? signOutEverywhereButton(page) : logoutButton(page)).click();
  await page.waitForURL((url) => isAppUrl(url.href, deployment) && url.pathname === '/');
  await expectGuest(page);
}

/** `/admin` as a user with the admin role and a recent sign-in sees it. */
export async function expectAdminPage(page: Page, email: string) {
  await expect(page.locator('h1')).toHaveText('Administration');
  await expect(page.getByText(`Signed in as ${email}`)).toBeVisible();
}

/** `/admin` as a user without the admin role: the 403 page that names the role. */
export async function expectRoleMissingPage(page: Page) {
  await expect(page.locator('h1')).toHaveText('Not allowed');
  await expect(page.getByText('This page needs the \u201cadmin\u201d role')).toBeVisible();
}

export async function readClaims(page: Page): Promise<Record<string, unknown>> {
  const text = await page.locator('pre#claims').textContent();
  expect(text, 'pre#claims has content').toBeTruthy();
  return JSON.parse(text!) as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The other application of the tenant (other-app/: "Other app: guest" / "Other app: signed in as …")

/**
 * Sign in to the other application as the demo user: its Login goes to FusionAuth, which shows its
 * form (submitted with the demo user's password) or, with an SSO session, sends the browser
 * straight back. On a FusionAuth provisioned by `setup` (PROVISIONED_BY_SETUP: no
 * "OtherExampleApp"), FusionAuth shows no form and never comes back: the test is skipped then.
 */
export async function signInToOtherApp(page: Page, deployment: Deployment = SAME_SITE) {
  await page.goto(`${deployment.otherAppUrl}/`);
  await expect(page.locator('h1')).toHaveText('Other app: guest');
  await loginButton(page).click();
  const signedIn = page.locator('h1', { hasText: `Other app: signed in as ${USER_EMAIL}` });
  const where = await Promise.race([
    signedIn.waitFor({ timeout: 15_000 }).then(() => 'back', () => 'gone'),
    loginIdInput(page).waitFor({ timeout: 15_000 }).then(() => 'form', () => 'gone'),
  ]);
  if (where === 'form') {
    await submitCredentials(page, USER_EMAIL, USER_PASSWORD);
  } else if (where !== 'back' && PROVISIONED_BY_SETUP) {
    test.skip(true, 'this FusionAuth has no "OtherExampleApp" (the kickstart makes it, `setup` does not)');
  }
  await expect(signedIn).toBeVisible();
}

/**
 * Log out of the other application: "Logout" (RP-initiated logout: FusionAuth ends its SSO
 * session, and its logout page loads every application's logout URL in an iframe) or "Logout
 * everywhere" (FusionAuth's Logout API with global: every refresh token of the user, then the
 * same). Waits until FusionAuth's logout page has sent the browser back to the other app.
 */
export async function logOutOfOtherApp(page: Page, { everywhere = false, deployment = SAME_SITE } = {}) {
  await page.getByRole('button', { name: everywhere ? 'Logout everywhere' : 'Logout', exact: true }).click();
  await page.waitForURL((url) => isOtherAppUrl(url.href, deployment) && url.pathname === '/');
  await expect(page.locator('h1')).toHaveText('Other app: guest');
}

/**
 * Records the requests FusionAuth's logout page makes for this app's logout URL from its hidden
 * iframes, with whether each carried the app's session cookie.
 */
export function watchFrontChannelLogout(page: Page, deployment: Deployment = SAME_SITE) {
  const requests: Promise<{ url: string; withSessionCookie: boolean }>[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!isAppUrl(req.url(), deployment) || url.pathname !== '/logout' || req.frame() === page.mainFrame()) return;
    requests.push(
      req.allHeaders().then((headers) => ({
        url: req.url(),
        withSessionCookie: (headers.cookie ?? '').split(/;\s*/).some((c) => c.startsWith(`${SESSION_COOKIE}=`)),
      })),
    );
  });
  return { requests: () => Promise.all(requests) };
}

// ---------------------------------------------------------------------------------------------
// What went wrong in the browser

/**
 * Collect console errors and uncaught exceptions on app pages, and responses >= 400 from the
 * app origin. Provider pages are not ours to judge (a wrong password may well answer 4xx there).
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url || page.url();
    if (isAppUrl(where) || isAppUrl(page.url())) problems.push(`console error (${where}): ${msg.text()}`);
  });
  page.on('pageerror', (err) => {
    if (isAppUrl(page.url())) problems.push(`uncaught exception (${page.url()}): ${err.message}`);
  });
  page.on('response', (res) => {
    if (isAppUrl(res.url()) && res.status() >= 400) {
      problems.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
    }
  });
  return problems;
}

const TEXTUAL = /^(text\/|application\/(json|javascript|ecmascript|xml|xhtml\+xml|x-www-form-urlencoded)|[^;]*\+json)/i;

export interface CapturedBody {
  url: string;
  status: number;
  contentType: string;
  body: string;
}

/** Capture every text-like response body served by the app origin. Call `done()` to collect. */
export function captureAppBodies(page: Page) {
  const pending: Promise<CapturedBody | null>[] = [];
  const headerLeaks: string[] = [];
  const onResponse = (res: Response) => {
    if (!isAppUrl(res.url())) return;
    const status = res.status();
    // Ask for the body at once: Chromium may drop it when the page navigates on.
    const bodyPromise = status >= 300 && status < 400 ? Promise.resolve(null) : res.text().catch(() => null);
    pending.push(
      (async () => {
        // Headers (Location, Set-Cookie, …) must not carry a token to the browser either.
        // (The logout redirect's id_token_hint goes to the provider by design; logout is not
        // part of what the callers capture.) allHeaders() includes Set-Cookie, headers() does not.
        const headers = await res.allHeaders().catch(() => ({}) as Record<string, string>);
        for (const [name, value] of Object.entries(headers)) {
          if (JWT_RE.test(value) || TOKEN_FIELD_RE.test(value)) headerLeaks.push(`${res.url()} header ${name}`);
        }
        const contentType = headers['content-type'] ?? '';
        if (!TEXTUAL.test(contentType)) return null;
        const body = await bodyPromise; // null for redirects (no body) or an evicted body
        return body === null ? null : { url: res.url(), status, contentType, body };
      })(),
    );
  };
  page.on('response', onResponse);
  return {
    async done() {
      page.off('response', onResponse);
      const bodies = (await Promise.all(pending)).filter((b): b is CapturedBody => b !== null);
      return { bodies, headerLeaks };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The stand-in provider's control port

export async function providerControl(request: APIRequestContext, action: 'stop' | 'start' | 'rotate-key') {
  const res = await request.post(`${CONTROL_URL}/${action}`);
  expect(res.ok(), `POST ${CONTROL_URL}/${action} → ${res.status()}`).toBeTruthy();
  return res;
}

/** One webhook delivery of the stand-in (GET /webhook-deliveries). */
export interface WebhookDelivery {
  type: string;
  eventId: string;
  userId?: string;
  loginId?: string;
  applicationId?: string;
  url: string;
  status: number;
  error?: string;
  at: string;
}

/** What a user action of the control port answers. */
export interface UserActionOutcome {
  userId: string;
  loginId: string;
  active: boolean;
  revokedRefreshTokens: string[];
  webhooks: WebhookDelivery[];
}

/** POST `body` (JSON) to the stand-in's control port `path`; its JSON answer, which must be `ok`. */
export async function control<T = Record<string, unknown>>(
  request: APIRequestContext,
  path: string,
  body: Record<string, unknown> = {},
  deployment: Deployment = SAME_SITE,
): Promise<T> {
  const res = await request.post(`${deployment.controlUrl}${path}`, { data: body });
  const answer = await res.text();
  expect(res.ok(), `POST ${deployment.controlUrl}${path} ${JSON.stringify(body)} → ${res.status()} ${answer}`).toBe(true);
  return JSON.parse(answer) as T;
}

/** An administrator's action on `user` at the stand-in (revoke-user-sessions, deactivate-user, …), with the webhooks it sent. */
export function userAction(
  request: APIRequestContext,
  action: 'revoke-user-sessions' | 'deactivate-user' | 'reactivate-user' | 'delete-user' | 'delete-registration' | 'set-roles',
  fields: Record<string, unknown>,
  deployment: Deployment = SAME_SITE,
) {
  return control<UserActionOutcome>(request, `/${action}`, fields, deployment);
}

/** Settings, users, registrations, roles and active flags back to the kickstart's. */
export async function resetProvider(request: APIRequestContext, deployment: Deployment = SAME_SITE) {
  await control(request, '/reset', {}, deployment);
}

/** Every webhook delivery the stand-in remembers, oldest first. */
export async function webhookDeliveries(request: APIRequestContext, deployment: Deployment = SAME_SITE) {
  const res = await request.get(`${deployment.controlUrl}/webhook-deliveries`);
  expect(res.ok(), `GET ${deployment.controlUrl}/webhook-deliveries → ${res.status()}`).toBe(true);
  return ((await res.json()) as { deliveries: WebhookDelivery[] }).deliveries;
}

/**
 * Remembers the deliveries made so far; `delivered(match)` then waits for a new one matching
 * (FusionAuth's Logout API does not wait for its webhooks) and answers it.
 */
export async function watchWebhooks(request: APIRequestContext, deployment: Deployment = SAME_SITE) {
  const seen = new Set((await webhookDeliveries(request, deployment)).map((d) => d.eventId + d.url));
  const fresh = async () => (await webhookDeliveries(request, deployment)).filter((d) => !seen.has(d.eventId + d.url));
  return {
    fresh,
    async delivered(match: Partial<WebhookDelivery>, message: string) {
      const matches = (d: WebhookDelivery) => Object.entries(match).every(([k, v]) => d[k as keyof WebhookDelivery] === v);
      let found: WebhookDelivery | undefined;
      await expect
        .poll(async () => {
          const deliveries = await fresh();
          found = deliveries.find(matches);
          return found ? 'delivered' : JSON.stringify(deliveries);
        }, { message, timeout: 10_000 })
        .toBe('delivered');
      return found!;
    },
  };
}

/** Wait until the provider answers discovery again (after /start). */
export async function waitForProviderUp(request: APIRequestContext) {
  await expect
    .poll(
      async () => {
        try {
          const res = await request.get(`${ISSUER}/.well-known/openid-configuration`, { timeout: 2_000 });
          return res.status();
        } catch {
          return 0;
        }
      },
      { timeout: 20_000, message: 'provider discovery answers again' },
    )
    .toBe(200);
}

/** Record the status of every main-frame document response (redirect hops included). */
export function watchNavigations(page: Page) {
  const navigations: { url: string; status: number }[] = [];
  page.on('response', (res) => {
    const req = res.request();
    if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
      navigations.push({ url: res.url(), status: res.status() });
    }
  });
  return navigations;
}
