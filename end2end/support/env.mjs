// The tooling's one reader of .env files and its one source of the demo settings: the app's
// (CLIENT_ID, CLIENT_SECRET, ISSUER, APP_URL, …) from the repository's .env.example, the demo
// user's from kickstart/kickstart.json. The environment overrides either.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ENV_EXAMPLE_FILE = path.join(REPO_ROOT, '.env.example');
const KICKSTART_FILE = path.join(REPO_ROOT, 'kickstart', 'kickstart.json');

/** KEY=VALUE lines, `#` comments, optional `export `, optional quotes, trailing `# comment` on unquoted values. */
export function parseEnvFile(file) {
  const out = {};
  for (const raw of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    const quoted = /^(['"])(.*)\1$/.exec(m[2]);
    out[m[1]] = quoted ? quoted[2] : m[2].replace(/\s+#.*$/, '').trim();
  }
  return out;
}

let envExampleValues;
/** .env.example as an object (read once). */
export function envExample() {
  envExampleValues ??= parseEnvFile(ENV_EXAMPLE_FILE);
  return envExampleValues;
}

/** The value .env.example gives KEY; an error when it gives none. */
export function demoSetting(key) {
  const value = envExample()[key];
  if (value === undefined) throw new Error(`${ENV_EXAMPLE_FILE} has no ${key}`);
  return value;
}

/** KEY from the environment, else from .env.example. */
export const setting = (key, env = process.env) => env[key] ?? demoSetting(key);

export const trimSlash = (url) => String(url).replace(/\/+$/, '');

/** The kickstart's `variables`, unresolved (the URLs and ids in it are plain values). */
const kickstartVariables = () => JSON.parse(fs.readFileSync(KICKSTART_FILE, 'utf8')).variables;

/** The demo user (kickstart variables userEmail, userPassword); E2E_USER_EMAIL and E2E_USER_PASSWORD override. */
export function demoUser(env = process.env) {
  const variables = kickstartVariables();
  return { email: env.E2E_USER_EMAIL ?? variables.userEmail, password: env.E2E_USER_PASSWORD ?? variables.userPassword };
}

/**
 * What the Playwright suite runs against. FUSIONAUTH_URL (a real FusionAuth, `realFusionAuth`)
 * wins for the issuer; everything else comes from the environment or .env.example.
 */
export function suiteSettings(env = process.env) {
  const realFusionAuth = env.FUSIONAUTH_URL ? trimSlash(env.FUSIONAUTH_URL) : undefined;
  return {
    realFusionAuth,
    issuer: realFusionAuth ?? setting('ISSUER', env),
    appUrl: trimSlash(setting('APP_URL', env)),
    clientId: setting('CLIENT_ID', env),
    clientSecret: setting('CLIENT_SECRET', env),
  };
}

/**
 * The site of a URL for SameSite cookies: scheme + registrable domain. An IP literal and a
 * one-label name (`localhost`) are their own site; otherwise the last two labels (enough for the
 * loopback names the suite uses; the browser reads the Public Suffix List).
 */
export function siteOf(url) {
  const { protocol, hostname } = new URL(url);
  const ip = /^[\d.]+$/.test(hostname) || hostname.startsWith('[');
  const labels = hostname.split('.');
  return `${protocol}//${ip || labels.length < 2 ? hostname : labels.slice(-2).join('.')}`;
}

/**
 * The two deployments the suite runs the app in (playwright.config.ts starts both; the second only
 * with the stand-in):
 * - `same-site`: the app (APP_URL, http://localhost:5001), FusionAuth (ISSUER, http://localhost:9011)
 *   and the other application (the kickstart's otherAppUrl, http://localhost:5003) on one site;
 * - `cross-site`: the app on http://127.0.0.1:5101 and the stand-in on http://localhost:9111 (an IP
 *   literal and `localhost` are different sites, so no host names or /etc/hosts entries are needed),
 *   the other application on http://localhost:5103.
 * `controlUrl` is the stand-in's control port, `sameSite` whether the app and FusionAuth share a site.
 */
export function deployments(env = process.env) {
  const suite = suiteSettings(env);
  const deployment = (name, urls) => ({ name, ...urls, sameSite: siteOf(urls.appUrl) === siteOf(urls.issuer) });
  return {
    sameSite: deployment('same-site', {
      appUrl: suite.appUrl,
      issuer: trimSlash(suite.issuer),
      controlUrl: trimSlash(env.PROVIDER_CONTROL_URL ?? 'http://localhost:9012'),
      otherAppUrl: trimSlash(kickstartVariables().otherAppUrl),
    }),
    crossSite: deployment('cross-site', {
      appUrl: 'http://127.0.0.1:5101',
      issuer: 'http://localhost:9111',
      controlUrl: 'http://localhost:9112',
      otherAppUrl: 'http://localhost:5103',
    }),
  };
}

/**
 * STEP_UP_MAX_AGE_SECS of the suite's app (E2E_STEP_UP_MAX_AGE_SECS, default 10): short, so that
 * tests/step-up.spec.ts can let a sign-in go stale, and still long enough for the other specs to
 * open /admin right after signing in.
 */
export const stepUpMaxAgeSecs = (env = process.env) => Number(env.E2E_STEP_UP_MAX_AGE_SECS ?? 10);
