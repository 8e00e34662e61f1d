import { expect, type APIRequestContext, type Page, type Response } from '@playwright/test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { demoUser, suiteSettings, trimSlash } from '../support/env.mjs';

// The values playwright.config.ts gives the app (../.env.example, the environment, FUSIONAUTH_URL).
const suite = suiteSettings();
export const APP_URL = suite.appUrl;
export const ISSUER = trimSlash(suite.issuer);
export const CLIENT_ID = suite.clientId;
/** Control port of the stand-in provider (POST /rotate-key, /stop, /start; GET /health). */
export const CONTROL_URL = (process.env.PROVIDER_CONTROL_URL ?? 'http://localhost:9012').replace(/\/+$/, '');
/** Set when the suite runs against a real FusionAuth: stand-in-only tests are skipped. */
export const REAL_FUSIONAUTH = !!process.env.FUSIONAUTH_URL;

/** The kickstart's demo user (E2E_USER_EMAIL, E2E_USER_PASSWORD override it). */
export const { email: USER_EMAIL, password: USER_PASSWORD } = demoUser();
export const SESSION_COOKIE = 'leptos_fusionauth_session';

/** A JWT (header.payload.signature, base64url, header starting with `{"`). */
export const JWT_RE = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;
/** A serialised token set (what the Flask tutorial leaked through its signed cookie). */
export const TOKEN_FIELD_RE = /"(?:access_token|refresh_token|id_token)"\s*:/;

const APP_ORIGIN = new URL(APP_URL).origin;
const ISSUER_ORIGIN = new URL(ISSUER).origin;

export const SCREENSHOT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'screenshots');
export const screenshotPath = (name: string) => path.join(SCREENSHOT_DIR, name);

export function isAppUrl(url: string): boolean {
  try {
    return new URL(url).origin === APP_ORIGIN;
  } catch {
    return false;
  }
}

export function isIssuerUrl(url: string): boolean {
  try {
    return new URL(url).origin === ISSUER_ORIGIN;
  } catch {
    return false;
  }
}

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
  await expect(page.locator('h1')).toHaveText('Hello Guest');
  await waitForHydration(page);
}

/** Click Login (or Register) and wait for the provider's page. */
export async function clickLoginAndExpectForm(page: Page) {
  await loginButton(page).click();
  await page.waitForURL((url) => isIssuerUrl(url.href));
  await expect(loginIdInput(page)).toBeVisible();
  await expect(passwordInput(page)).toBeVisible();
}

export async function submitCredentials(page: Page, email: string, password: string) {
  await loginIdInput(page).fill(email);
  await passwordInput(page).fill(password);
  await submitButton(page).click();
}

export async function expectLoggedIn(page: Page, email = USER_EMAIL) {
  await expect(page.locator('h1')).toHaveText(`You are logged in as ${email}`);
  await expect(page.locator('h2')).toHaveText('Here is your OpenID profile');
}

/** Full login from the guest home page through the provider form back to the profile. */
export async function loginThroughForm(page: Page, pathAndQuery = '/') {
  await gotoGuestHome(page, pathAndQuery);
  await clickLoginAndExpectForm(page);
  await submitCredentials(page, USER_EMAIL, USER_PASSWORD);
  await page.waitForURL((url) => isAppUrl(url.href) && !url.pathname.startsWith('/callback'));
  await expectLoggedIn(page);
}

export async function readClaims(page: Page): Promise<Record<string, unknown>> {
  const text = await page.locator('pre#claims').textContent();
  expect(text, 'pre#claims has content').toBeTruthy();
  return JSON.parse(text!) as Record<string, unknown>;
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
