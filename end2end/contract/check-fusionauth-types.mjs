#!/usr/bin/env node
// npm run check:fusionauth-types — see contract/fusionauth-types.mjs.
// Generates .tmp/contract/fusionauth-contract.ts and type-checks it with tsc; exits 1 on any error.
import path from 'node:path';

import { END2END, checkContract, explain, tscVersion } from './fusionauth-types.mjs';

try {
  const { ok, entries, source, result, file, versions } = await checkContract();
  if (versions.pinned !== versions.installed) {
    console.error(
      `@fusionauth/typescript-client: package.json pins ${versions.pinned} but ${versions.installed ?? 'nothing'} ` +
        'is installed: run npm ci in end2end/',
    );
    process.exit(1);
  }
  console.log(
    `FusionAuth type contract: ${entries.length} values against @fusionauth/typescript-client@${versions.installed} ` +
      `(FusionAuth ${versions.fusionauth} in compose.env), ${tscVersion()}`,
  );
  for (const e of entries) console.log(`  ${e.type.padEnd(20)} ${e.label}`);
  console.log(`generated: ${path.relative(END2END, file)}`);
  if (ok) {
    console.log(`${entries.length} passed, 0 failed`);
  } else {
    const lines = source.split('\n');
    console.error(`\n${result.diagnostics.length} type error(s):`);
    for (const d of result.diagnostics) console.error(`- ${explain(d, entries, lines)}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`check:fusionauth-types: ${err.message}`);
  process.exit(1);
}
