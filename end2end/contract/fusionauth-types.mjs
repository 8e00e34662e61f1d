// The type contract with FusionAuth's official TypeScript client (@fusionauth/typescript-client,
// pinned in package.json to the FusionAuth version of compose.env).
//
// Every JSON value this repository sends to FusionAuth, or expects from it, becomes an object
// literal annotated with the client's type, and `tsc --noEmit` checks the file:
//   1. every request body in kickstart/kickstart.json and kickstart/bootstrap/kickstart.json
//      (variables resolved like FusionAuth does, by provider/kickstart.mjs);
//   2. every body the `setup` command sends (contract/setup-requests.json, written by the Rust
//      test double of FusionAuth's API);
//   3. the stand-in provider's token responses, userinfo response and ID-token claims, captured
//      from a real authorization-code + PKCE login (contract/standin-capture.mjs).
// An unknown field (excess property) or a wrongly typed value fails. Enums are compared as their
// string values (contract/loose.ts). contract/fusionauth-types.test.mjs plants errors on purpose
// and shows that they fail.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { resolveKickstartRequests } from '../provider/kickstart.mjs';
import { parseEnvFile } from '../support/env.mjs';
import { captureStandIn } from './standin-capture.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const END2END = path.resolve(here, '..');
export const REPO_ROOT = path.resolve(END2END, '..');
export const OUT_DIR = path.join(END2END, '.tmp', 'contract');
export const GENERATED_FILE = path.join(OUT_DIR, 'fusionauth-contract.ts');
/** Kickstart files → the prefix of their values' names in the generated file. */
export const KICKSTART_FILES = { 'kickstart/kickstart.json': 'kickstart', 'kickstart/bootstrap/kickstart.json': 'bootstrap' };
export const SETUP_REQUESTS_FILE = path.join(here, 'setup-requests.json');
const CLIENT_PACKAGE = '@fusionauth/typescript-client';

/**
 * FusionAuth API request → the client's request type. One row per API; a request whose method and
 * path match no row fails the check (add the row, with the type from the client's
 * build/src/FusionAuthClient.d.ts, when the repository starts calling a new API).
 * Paths are matched without their query string.
 */
export const REQUEST_TYPES = [
  { methods: ['POST', 'PUT', 'PATCH'], path: /^\/api\/tenant(\/[^/]+)?$/, type: 'TenantRequest' },
  { methods: ['POST'], path: /^\/api\/key\/(generate|import)(\/[^/]+)?$/, type: 'KeyRequest' },
  { methods: ['PUT', 'PATCH'], path: /^\/api\/key\/[^/]+$/, type: 'KeyRequest' },
  { methods: ['POST', 'PUT', 'PATCH'], path: /^\/api\/application(\/[^/]+)?$/, type: 'ApplicationRequest' },
  { methods: ['POST', 'PUT', 'PATCH'], path: /^\/api\/application\/[^/]+\/role(\/[^/]+)?$/, type: 'ApplicationRequest' },
  { methods: ['POST'], path: /^\/api\/user\/registration(\/[^/]+)?$/, type: 'RegistrationRequest' },
  { methods: ['PUT', 'PATCH'], path: /^\/api\/user\/registration\/[^/]+\/[^/]+$/, type: 'RegistrationRequest' },
  { methods: ['POST', 'PUT', 'PATCH'], path: /^\/api\/user(\/[^/]+)?$/, type: 'UserRequest' },
  { methods: ['POST', 'PUT', 'PATCH'], path: /^\/api\/webhook(\/[^/]+)?$/, type: 'WebhookRequest' },
  { methods: ['POST', 'PUT', 'PATCH'], path: /^\/api\/api-key(\/[^/]+)?$/, type: 'APIKeyRequest' },
];

/** What the stand-in answers → the client's response types. */
export const RESPONSE_TYPES = {
  // AccessToken has no index signature: an unknown field in a token response fails.
  tokenResponse: 'AccessToken',
  refreshResponse: 'AccessToken',
  // UserinfoResponse is declared `extends Record<string, any> {}`: FusionAuth's client does not
  // type userinfo at all, so this entry only proves that the body is a JSON object.
  userinfo: 'UserinfoResponse',
  // JWT declares aud/exp/iat/iss/jti/nbf/sub and `[otherClaims: string]: any`: the known claims'
  // types are checked, an unknown claim cannot fail (FusionAuth adds its own claims freely).
  idTokenClaims: 'JWT',
  refreshedIdTokenClaims: 'JWT',
  // FusionAuth's access tokens are JWTs too (the app verifies and reads them).
  accessTokenClaims: 'JWT',
};

export function requestTypeFor(method, urlPath) {
  const pathOnly = String(urlPath).split('?')[0];
  const row = REQUEST_TYPES.find((r) => r.methods.includes(method) && r.path.test(pathOnly));
  if (!row) {
    throw new Error(
      `no FusionAuth request type is mapped for ${method} ${pathOnly}: add a row to REQUEST_TYPES in ` +
        'end2end/contract/fusionauth-types.mjs (see the request types in @fusionauth/typescript-client)',
    );
  }
  return row.type;
}

/** The pinned client version and the FusionAuth version it must match. */
export function versions() {
  const pkg = JSON.parse(fs.readFileSync(path.join(END2END, 'package.json'), 'utf8'));
  const pinned = pkg.devDependencies?.[CLIENT_PACKAGE] ?? pkg.dependencies?.[CLIENT_PACKAGE];
  const installedFile = path.join(END2END, 'node_modules', ...CLIENT_PACKAGE.split('/'), 'package.json');
  const installed = fs.existsSync(installedFile) ? JSON.parse(fs.readFileSync(installedFile, 'utf8')).version : undefined;
  const fusionauth = parseEnvFile(path.join(REPO_ROOT, 'compose.env')).FUSIONAUTH_APP_VERSION;
  return { pinned, installed, fusionauth };
}

/**
 * Every value to check: { name, label, type, value } (name: its identifier in the generated file). `type` is a type name exported by the client.
 * `standIn` may be passed in (tests reuse one capture); otherwise the stand-in is started.
 */
export async function collectValues({ standIn } = {}) {
  const values = [];
  const env = { ...parseEnvFile(path.join(REPO_ROOT, 'compose.env')), ...process.env };
  for (const [file, prefix] of Object.entries(KICKSTART_FILES)) {
    const raw = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'));
    resolveKickstartRequests(raw, env).forEach((request, i) => {
      if (request.body === undefined) return;
      values.push({
        name: `${prefix}_request${i}`,
        label: `${file} requests[${i}]: ${request.method} ${request.url}`,
        type: requestTypeFor(request.method, request.url),
        value: request.body,
      });
    });
  }

  const setupRequests = JSON.parse(fs.readFileSync(SETUP_REQUESTS_FILE, 'utf8'));
  if (!Array.isArray(setupRequests)) throw new Error(`${SETUP_REQUESTS_FILE}: expected a JSON array`);
  setupRequests.forEach((request, i) => {
    for (const key of ['method', 'path', 'body']) {
      if (!(key in request)) throw new Error(`${SETUP_REQUESTS_FILE}[${i}]: "${key}" is missing`);
    }
    values.push({
      name: `setup_request${i}`,
      label: `end2end/contract/setup-requests.json [${i}]: ${request.method} ${request.path}`,
      type: requestTypeFor(request.method, request.path),
      value: request.body,
    });
  });

  const captured = standIn ?? (await captureStandIn());
  for (const [key, type] of Object.entries(RESPONSE_TYPES)) {
    if (captured[key] === undefined) throw new Error(`the stand-in capture has no ${key}`);
    values.push({ name: `standin_${key}`, label: `stand-in provider: ${key}`, type, value: captured[key] });
  }
  return values;
}

/**
 * The TypeScript source: one `export const … : Loose<Type> = <JSON>;` per value.
 * Returns { source, entries: [{ label, type, name, startLine, endLine }] } (lines 1-based).
 */
export function generateSource(values, { clientVersion = 'unknown' } = {}) {
  const types = [...new Set(values.map((v) => v.type))].sort();
  const lines = [
    '// GENERATED by end2end/contract/check-fusionauth-types.mjs (npm run check:fusionauth-types). Do not edit.',
    `// Every value below is type-checked against ${CLIENT_PACKAGE}@${clientVersion}.`,
    `import type { ${types.join(', ')} } from '${CLIENT_PACKAGE}';`,
    "import type { Loose } from '../../contract/loose';",
    '',
  ];
  const entries = [];
  values.forEach((v) => {
    const { name } = v;
    lines.push(`// ${v.label}`);
    const json = JSON.stringify(v.value, null, 2).split('\n');
    const startLine = lines.length + 1;
    lines.push(`export const ${name}: Loose<${v.type}> = ${json[0]}`, ...json.slice(1));
    lines[lines.length - 1] += ';';
    entries.push({ label: v.label, type: v.type, name, startLine, endLine: lines.length });
    lines.push('');
  });
  return { source: lines.join('\n'), entries };
}

/** Writes tsconfig.json for `files` (absolute paths inside OUT_DIR) and runs tsc on them. */
export function typecheck(files, { configName = 'tsconfig.json' } = {}) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const config = path.join(OUT_DIR, configName);
  fs.writeFileSync(
    config,
    `${JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'ESNext',
          moduleResolution: 'Bundler',
          strict: true,
          noEmit: true,
          // The client's own .d.ts is not what is under test.
          skipLibCheck: true,
          types: [],
          pretty: false,
        },
        files: files.map((f) => path.relative(OUT_DIR, f)),
      },
      null,
      2,
    )}\n`,
  );
  const tsc = path.join(END2END, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', config], { cwd: END2END, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  const output = `${result.stdout}${result.stderr}`;
  const diagnostics = [];
  for (const line of output.split('\n')) {
    const m = /^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/.exec(line);
    if (m) diagnostics.push({ file: path.resolve(END2END, m[1]), line: Number(m[2]), column: Number(m[3]), code: m[4], message: m[5] });
  }
  if (result.status !== 0 && diagnostics.length === 0) {
    throw new Error(`tsc failed without a diagnostic it could parse (exit ${result.status}):\n${output}`);
  }
  return { ok: result.status === 0, status: result.status, diagnostics, output };
}

export function tscVersion() {
  const tsc = path.join(END2END, 'node_modules', 'typescript', 'bin', 'tsc');
  return spawnSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' }).stdout.trim();
}

/** One readable line per diagnostic: which value, which line of it, what tsc said. */
export function explain(diagnostic, entries, sourceLines) {
  const entry = entries.find((e) => diagnostic.line >= e.startLine && diagnostic.line <= e.endLine);
  const text = sourceLines[diagnostic.line - 1]?.trim() ?? '';
  const message = diagnostic.message.length > 400 ? `${diagnostic.message.slice(0, 400)}…` : diagnostic.message;
  return `${entry ? entry.label : path.relative(END2END, diagnostic.file)} (as ${entry?.type ?? '?'})\n` +
    `    line ${diagnostic.line}: ${text}\n    ${diagnostic.code}: ${message}`;
}

/** Generates the file and checks it. Returns { ok, values, entries, result, file, versions }. */
export async function checkContract({ standIn } = {}) {
  const v = versions();
  const values = await collectValues({ standIn });
  const { source, entries } = generateSource(values, { clientVersion: v.installed });
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.writeFileSync(GENERATED_FILE, source);
  const result = typecheck([GENERATED_FILE]);
  return { ok: result.ok, values, entries, source, result, file: GENERATED_FILE, versions: v };
}
