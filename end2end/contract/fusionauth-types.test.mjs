// Proves that the FusionAuth type contract (npm run check:fusionauth-types) catches what it claims
// to catch: errors are planted into copies of the generated file, and tsc must reject each copy
// with an error that names the planted field (or points at its line). Two plants document what the
// client's types cannot catch (claims and userinfo fields FusionAuth leaves untyped).
//
// Run: `node --test contract/` in end2end/ (or `npm run test:contract`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { OUT_DIR, checkContract, requestTypeFor, typecheck } from './fusionauth-types.mjs';

/**
 * Each plant edits one value of the generated file — `value` is its name, or words (strings it
 * contains, or patterns it matches) of its label (file, method and path) — : `find` (a string or RegExp, which must occur exactly once in
 * that value) is replaced by `replace`.
 *   expect: { code: [TS codes], names: 'field' }  tsc must fail on the planted line; the message
 *                                                 or the line must name the field
 *   expect: 'passes'                              a documented blind spot: tsc accepts it
 */
const PLANTS = [
  {
    id: 'unknown-field-in-a-kickstart-tenant',
    value: ['kickstart/kickstart.json', 'PATCH /api/tenant/'],
    find: '"issuer": "http://localhost:9011"',
    replace: '"issuer": "http://localhost:9011",\n    "bogusField": true',
    expect: { code: ['TS2353'], names: 'bogusField' },
  },
  {
    id: 'wrongly-typed-key-length',
    value: ['kickstart/kickstart.json', 'POST /api/key/generate/'],
    find: '"length": 2048',
    replace: '"length": "2048"',
    expect: { code: ['TS2322'], names: 'length' },
  },
  {
    id: 'key-algorithm-outside-the-enum',
    value: ['kickstart/kickstart.json', 'POST /api/key/generate/'],
    find: '"algorithm": "RS256"',
    replace: '"algorithm": "RS257"',
    expect: { code: ['TS2322', 'TS2820'], names: 'algorithm' },
  },
  {
    id: 'misspelt-nested-application-field',
    value: ['kickstart/kickstart.json', 'POST /api/application/e9fdb985'],
    find: '"generateRefreshTokens": true',
    replace: '"generateRefreshToken": true',
    expect: { code: ['TS2353'], names: 'generateRefreshToken' },
  },
  {
    id: 'wrongly-typed-field-in-the-bootstrap-kickstart',
    value: ['kickstart/bootstrap/kickstart.json', 'POST /api/user'],
    find: '"skipVerification": true',
    replace: '"skipVerification": "true"',
    expect: { code: ['TS2322'], names: 'skipVerification' },
  },
  {
    id: 'unknown-field-in-a-setup-user-patch',
    value: ['setup-requests.json', 'PATCH /api/user/'],
    find: '"fullName"',
    replace: '"fullname"',
    expect: { code: ['TS2353'], names: 'fullname' },
  },
  {
    id: 'setup-refresh-token-policy-outside-the-enum',
    value: ['setup-requests.json', /POST \/api\/application\/[^/]+$/],
    find: '"refreshTokenUsagePolicy": "Reusable"',
    replace: '"refreshTokenUsagePolicy": "Reuseable"',
    expect: { code: ['TS2322', 'TS2820'], names: 'refreshTokenUsagePolicy' },
  },
  {
    id: 'unknown-field-in-the-token-response',
    value: 'standin_tokenResponse',
    find: '"token_type": "Bearer"',
    replace: '"token_type": "Bearer",\n  "tokenType": "Bearer"',
    expect: { code: ['TS2353'], names: 'tokenType' },
  },
  {
    id: 'wrongly-typed-expires_in',
    value: 'standin_tokenResponse',
    find: /"expires_in": (\d+)/,
    replace: '"expires_in": "$1"',
    expect: { code: ['TS2322'], names: 'expires_in' },
  },
  {
    id: 'wrongly-typed-known-id-token-claim',
    value: 'standin_idTokenClaims',
    find: /"exp": (\d+)/,
    replace: '"exp": "$1"',
    expect: { code: ['TS2322'], names: 'exp' },
  },
  {
    // JWT has `[otherClaims: string]: any`: FusionAuth's types cannot reject an unknown claim.
    id: 'blind-spot-unknown-id-token-claim',
    value: 'standin_idTokenClaims',
    find: /"sub": /,
    replace: '"bogusClaim": { "anything": 1 },\n  "sub": ',
    expect: 'passes',
  },
  {
    // UserinfoResponse is `Record<string, any>`: FusionAuth's types do not describe userinfo.
    id: 'blind-spot-userinfo-field-types',
    value: 'standin_userinfo',
    find: '"email_verified": true',
    replace: '"email_verified": "yes"',
    expect: 'passes',
  },
];

function plant(source, entries, { value, find, replace }) {
  const words = [value].flat();
  const labelHas = (label, w) => (typeof w === 'string' ? label.includes(w) : w.test(label));
  const matching = entries.filter((e) => e.name === value || words.every((w) => labelHas(e.label, w)));
  assert.equal(matching.length, 1, `exactly one generated value for ${words.join(' … ')}`);
  const [entry] = matching;
  assert.ok(entry, `the generated file has no value ${value}`);
  const lines = source.split('\n');
  const block = lines.slice(entry.startLine - 1, entry.endLine).join('\n');
  const re = typeof find === 'string' ? new RegExp(find.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(find.source, 'g');
  const matches = [...block.matchAll(re)];
  assert.equal(matches.length, 1, `${value}: expected ${find} exactly once, found ${matches.length}`);
  const firstLine = entry.startLine + block.slice(0, matches[0].index).split('\n').length - 1;
  const planted = block.replace(re, replace);
  const out = [...lines.slice(0, entry.startLine - 1), planted, ...lines.slice(entry.endLine)].join('\n');
  // The lines the replacement occupies in the planted copy.
  const plantedLines = { first: firstLine, last: firstLine + replace.split('\n').length - 1 };
  return { source: out, plantedLines };
}

describe('FusionAuth type contract', () => {
  let contract;
  let planted; // id → { file, plantedLines, diagnostics, lines }

  before(async () => {
    contract = await checkContract();
    const dir = OUT_DIR;
    planted = new Map();
    for (const p of PLANTS) {
      const { source, plantedLines } = plant(contract.source, contract.entries, p);
      const file = path.join(dir, `planted-${p.id}.ts`);
      fs.writeFileSync(file, source);
      planted.set(p.id, { file, plantedLines, lines: source.split('\n'), diagnostics: [] });
    }
    // One tsc run over every planted copy; diagnostics are sorted back to their copy.
    const result = typecheck([...planted.values()].map((p) => p.file), { configName: 'tsconfig.planted.json' });
    assert.equal(result.ok, false, 'tsc must fail on the planted copies');
    for (const d of result.diagnostics) {
      const hit = [...planted.values()].find((p) => p.file === d.file);
      assert.ok(hit, `a diagnostic outside the planted copies: ${JSON.stringify(d)}`);
      hit.diagnostics.push(d);
    }
  });

  test('the generated file passes tsc as it is', () => {
    assert.ok(contract.ok, contract.result.output);
    assert.ok(contract.entries.length >= 16, `values checked: ${contract.entries.length}`);
    const types = new Set(contract.entries.map((e) => e.type));
    for (const t of ['TenantRequest', 'KeyRequest', 'ApplicationRequest', 'RegistrationRequest', 'UserRequest', 'AccessToken', 'UserinfoResponse', 'JWT']) {
      assert.ok(types.has(t), `nothing is checked against ${t}`);
    }
  });

  test('the pinned client is the one installed, and matches FusionAuth in compose.env', () => {
    const { pinned, installed, fusionauth } = contract.versions;
    assert.equal(pinned, installed, 'package.json pin and node_modules differ: run npm ci');
    assert.equal(installed, fusionauth);
  });

  for (const p of PLANTS) {
    test(`planted: ${p.id} ${p.expect === 'passes' ? 'is NOT caught (documented blind spot)' : 'fails tsc'}`, () => {
      const { diagnostics, plantedLines, lines } = planted.get(p.id);
      if (p.expect === 'passes') {
        assert.deepEqual(diagnostics, [], 'this plant was expected to pass');
        return;
      }
      assert.ok(diagnostics.length > 0, `tsc accepted the plant ${p.id}`);
      const onLine = diagnostics.filter((d) => d.line >= plantedLines.first && d.line <= plantedLines.last);
      assert.ok(
        onLine.length > 0,
        `no error on the planted line(s) ${plantedLines.first}-${plantedLines.last}: ${JSON.stringify(diagnostics)}`,
      );
      const d = onLine[0];
      assert.ok(p.expect.code.includes(d.code), `expected ${p.expect.code.join(' or ')}, got ${d.code}: ${d.message}`);
      // TS2353 names the property ('bogusField', or '"bogusField"' for a quoted key); TS2322 only
      // names the types, so its line must be the property's.
      const named = d.message.includes(`'${p.expect.names}'`) || d.message.includes(`'"${p.expect.names}"'`) ||
        lines[d.line - 1].trim().startsWith(`"${p.expect.names}":`);
      assert.ok(named, `the error does not name ${p.expect.names}: ${d.message}`);
      assert.equal(diagnostics.length, 1, `one plant, one error: ${JSON.stringify(diagnostics)}`);
    });
  }

  test('Loose<T>: enums as strings, partial enum-keyed maps, and every expected error (loose-cases.ts)', () => {
    // Each `@ts-expect-error` in loose-cases.ts must meet an error, or tsc reports TS2578.
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loose-cases.ts');
    const expected = (fs.readFileSync(file, 'utf8').match(/@ts-expect-error/g) ?? []).length;
    assert.ok(expected >= 5, `loose-cases.ts has ${expected} expected errors`);
    const result = typecheck([file], { configName: 'tsconfig.loose-cases.json' });
    assert.ok(result.ok, result.output);
  });

  test('a request to an API without a mapped type fails the check', () => {
    assert.equal(requestTypeFor('PATCH', '/api/tenant/abc'), 'TenantRequest');
    assert.equal(requestTypeFor('POST', '/api/user/registration/abc'), 'RegistrationRequest');
    assert.equal(requestTypeFor('PATCH', '/api/user/abc?x=1'), 'UserRequest');
    assert.equal(requestTypeFor('POST', '/api/webhook/abc'), 'WebhookRequest');
    assert.throws(() => requestTypeFor('POST', '/api/system-configuration'), /no FusionAuth request type is mapped for POST \/api\/system-configuration/);
    assert.throws(() => requestTypeFor('DELETE', '/api/tenant/abc'), /no FusionAuth request type/);
  });
});
