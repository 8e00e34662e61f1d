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

/** The demo user (kickstart variables userEmail, userPassword); E2E_USER_EMAIL and E2E_USER_PASSWORD override. */
export function demoUser(env = process.env) {
  const { variables } = JSON.parse(fs.readFileSync(KICKSTART_FILE, 'utf8'));
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
