// The reliability suite's controls (faults.mjs, bench/chaos.sh): the token endpoint's delay, and
// the ledger of refresh-token exchanges that tells a refresh token spent twice.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';

import {
  APP, RICHARD, control, refresh, signIn, sleep, useStandIn,
} from './testing.mjs';

/** The ledger's entry for the refresh token with FusionAuth id `tokenId`, if it was spent twice. */
async function spentTwice(standIn, tokenId) {
  const report = await control(standIn, '/refresh-token-exchanges');
  return report.spentTwice.find((t) => t.tokenId === tokenId);
}

const oneTimeUse = (standIn) => control(standIn, '/settings', { clientId: APP.clientId, refreshTokenUsagePolicy: 'OneTimeUse' });

/** A refresh whose client gives up after `ms` (as the app does at its provider timeout). */
async function refreshGivingUpAfter(standIn, refreshToken, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    await fetch(new URL('/oauth2/token', standIn.issuer), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
      signal: controller.signal,
    });
    assert.fail('the delayed request was expected to be abandoned');
  } catch (err) {
    assert.equal(err.name, 'AbortError');
  } finally {
    clearTimeout(timer);
  }
}

describe('fault controls', () => {
  const standIn = useStandIn();
  afterEach(async () => {
    await control(standIn, '/token-delay', { ms: 0 });
    await control(standIn, '/reset', {});
  });

  test('POST /token-delay holds every token request that long; 0 ends it', async () => {
    assert.deepEqual((await control(standIn, '/token-delay')).tokenDelay, { ms: 0, dropAbandoned: false, held: 0, dropped: 0 });
    const { tokens } = await signIn(standIn.issuer);
    const answer = await control(standIn, '/token-delay', { ms: 700 });
    assert.equal(answer.tokenDelay.ms, 700);

    let t0 = Date.now();
    const slow = refresh(standIn.issuer, tokens.refresh_token);
    await sleep(200);
    assert.equal((await control(standIn, '/token-delay')).tokenDelay.held, 1, 'the request is being held');
    const { status } = await slow;
    assert.equal(status, 200);
    assert.ok(Date.now() - t0 >= 700, `answered after ${Date.now() - t0} ms`);
    // other endpoints are not delayed
    t0 = Date.now();
    assert.equal((await fetch(`${standIn.issuer}/.well-known/jwks.json`)).status, 200);
    assert.ok(Date.now() - t0 < 500);

    await control(standIn, '/token-delay', { ms: 0 });
    t0 = Date.now();
    assert.equal((await refresh(standIn.issuer, tokens.refresh_token)).status, 200);
    assert.ok(Date.now() - t0 < 500, 'no delay any more');
  });

  test('POST /token-delay refuses what is not a delay', async () => {
    for (const body of [{}, { ms: -1 }, { ms: 1.5 }, { ms: '100' }, { ms: 600_001 }, { ms: 10, dropAbandoned: 'yes' }]) {
      const answer = await control(standIn, '/token-delay', body, { expect: 400 });
      assert.equal(answer.ok, false);
    }
    assert.equal((await control(standIn, '/token-delay')).tokenDelay.ms, 0);
  });

  test('a reusable refresh token exchanged again and again is not spent twice', async () => {
    const { tokens } = await signIn(standIn.issuer);
    for (let i = 0; i < 3; i += 1) assert.equal((await refresh(standIn.issuer, tokens.refresh_token)).status, 200);
    const report = await control(standIn, '/refresh-token-exchanges');
    assert.ok(report.exchanges >= 3);
    assert.equal(await spentTwice(standIn, tokens.refresh_token_id), undefined);
  });

  test('a one-time-use refresh token presented again is spent twice, and says by whom and when', async () => {
    await oneTimeUse(standIn);
    const { tokens } = await signIn(standIn.issuer);
    const first = await refresh(standIn.issuer, tokens.refresh_token);
    assert.equal(first.status, 200);
    assert.notEqual(first.body.refresh_token, tokens.refresh_token, 'rotated');
    assert.equal(await spentTwice(standIn, tokens.refresh_token_id), undefined, 'once is fine');
    // the new value, once: fine as well
    assert.equal((await refresh(standIn.issuer, first.body.refresh_token)).status, 200);
    assert.equal(await spentTwice(standIn, tokens.refresh_token_id), undefined);

    const again = await refresh(standIn.issuer, tokens.refresh_token);
    assert.equal(again.status, 400, 'FusionAuth refuses the old value');
    const entry = await spentTwice(standIn, tokens.refresh_token_id);
    assert.ok(entry, 'the old value is reported');
    assert.equal(entry.loginId, RICHARD.email);
    assert.equal(entry.userId, RICHARD.id);
    assert.deepEqual(entry.exchanges.map((e) => [e.status, e.rotated, e.policy]), [[200, true, 'OneTimeUse'], [400, false, 'OneTimeUse']]);
    for (const e of entry.exchanges) assert.ok(e.arrivedAt <= e.startedAt && e.startedAt <= e.endedAt);
  });

  test('a delayed exchange whose client gave up is still made: the retry spends the token twice', async () => {
    await oneTimeUse(standIn);
    const { tokens } = await signIn(standIn.issuer);
    await control(standIn, '/token-delay', { ms: 600 });
    await refreshGivingUpAfter(standIn, tokens.refresh_token, 150);
    await sleep(700);
    await control(standIn, '/token-delay', { ms: 0 });
    const retry = await refresh(standIn.issuer, tokens.refresh_token);
    assert.equal(retry.status, 400, 'the abandoned exchange rotated the token');
    const entry = await spentTwice(standIn, tokens.refresh_token_id);
    assert.deepEqual(entry.exchanges.map((e) => e.status), [200, 400]);
    assert.ok(entry.exchanges[0].startedAt - entry.exchanges[0].arrivedAt >= 600, 'held before it was made');
  });

  test('with dropAbandoned, an exchange whose client gave up is not made', async () => {
    await oneTimeUse(standIn);
    const { tokens } = await signIn(standIn.issuer);
    await control(standIn, '/token-delay', { ms: 600, dropAbandoned: true });
    await refreshGivingUpAfter(standIn, tokens.refresh_token, 150);
    await sleep(700);
    assert.equal((await control(standIn, '/token-delay')).tokenDelay.dropped, 1);
    await control(standIn, '/token-delay', { ms: 0 });
    assert.equal((await refresh(standIn.issuer, tokens.refresh_token)).status, 200, 'the token was never spent');
    assert.equal(await spentTwice(standIn, tokens.refresh_token_id), undefined);
  });

  test('two exchanges of one value in flight at once are counted as overlapping', async () => {
    const { tokens } = await signIn(standIn.issuer);
    const before = (await control(standIn, '/refresh-token-exchanges')).overlapping;
    await control(standIn, '/token-delay', { ms: 300 });
    const answers = await Promise.all([refresh(standIn.issuer, tokens.refresh_token), refresh(standIn.issuer, tokens.refresh_token)]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200], 'Reusable: both go through');
    assert.equal((await control(standIn, '/refresh-token-exchanges')).overlapping, before + 1);
  });
});
