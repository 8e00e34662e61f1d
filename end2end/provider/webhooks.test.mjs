// Signed webhooks as FusionAuth sends them, received by a tiny HTTP receiver that verifies them the
// way a real receiver does (FusionAuth's signing docs): HS256 JWT in X-FusionAuth-Signature-JWT,
// signed with the shared secret's UTF-8 bytes, whose request_body_sha256 is the standard base64
// SHA-256 of the raw body. Each revocation and administrator action sends its event.
import assert from 'node:assert/strict';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';

import { demoSetting } from '../support/env.mjs';
import {
  APP, MONICA, OTHER, RICHARD, TENANT_ID, authorizeUrl, control, decodeJwt, freePort, makeClient, refresh, signIn,
  sleep, startStandInProcess,
} from './testing.mjs';

const SECRET = demoSetting('FUSIONAUTH_WEBHOOK_SECRET');

/** Verifies a request the way a receiver holding `secret` does; answers the event or a reason for 401. */
function verifyWebhook(headers, raw, secret) {
  const jwt = headers['x-fusionauth-signature-jwt'];
  if (!jwt) return { error: 'no signature' };
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  if (header.alg !== 'HS256') return { error: `alg ${header.alg}` };
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${h}.${p}`).digest();
  const given = Buffer.from(s ?? '', 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: 'bad signature' };
  const claim = JSON.parse(Buffer.from(p, 'base64url')).request_body_sha256;
  if (claim !== createHash('sha256').update(raw).digest('base64')) return { error: 'body hash mismatch' };
  return { header, event: JSON.parse(raw.toString('utf8')).event };
}

/** A webhook receiver on a free port: `received` holds the verified events; `mode` 'ok' | 'hang'. */
async function startReceiver(secret = SECRET) {
  const receiver = { received: [], refused: [], mode: 'ok' };
  receiver.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (receiver.mode === 'hang') return;
      const result = verifyWebhook(req.headers, Buffer.concat(chunks), secret);
      if (result.error) {
        receiver.refused.push(result.error);
        res.writeHead(401).end();
        return;
      }
      receiver.received.push({ ...result, contentType: req.headers['content-type'], path: req.url });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"message":"Success"}');
    });
  });
  const port = await freePort();
  await new Promise((ok) => { receiver.server.listen(port, '127.0.0.1', ok); });
  receiver.url = `http://127.0.0.1:${port}/webhooks/fusionauth`;
  receiver.close = () => new Promise((ok) => { receiver.server.closeAllConnections(); receiver.server.close(ok); });
  return receiver;
}

async function waitFor(what, predicate) {
  for (let i = 0; i < 100; i += 1) {
    const value = predicate();
    if (value) return value;
    await sleep(20); // eslint-disable-line no-await-in-loop
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function waitForAsync(what, predicate) {
  for (let i = 0; i < 100; i += 1) {
    const value = await predicate(); // eslint-disable-line no-await-in-loop
    if (value) return value;
    await sleep(20); // eslint-disable-line no-await-in-loop
  }
  throw new Error(`timed out waiting for ${what}`);
}

const apiLogout = (issuer, body) => fetch(`${issuer}/api/logout`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
});

describe('signed webhooks', () => {
  let standIn;
  let issuer;
  let receiver;

  before(async () => {
    receiver = await startReceiver();
    standIn = await startStandInProcess({ FUSIONAUTH_WEBHOOK_URL: receiver.url });
    issuer = standIn.issuer;
  });

  after(async () => {
    await standIn?.stop();
    await receiver?.close();
  });

  afterEach(async () => {
    receiver.received.length = 0;
    receiver.mode = 'ok';
    await control(standIn, '/reset', {});
  });

  test('POST /api/logout: jwt.refresh-token.revoke for the one token, signed, with FusionAuth\'s fields', async () => {
    const { tokens } = await signIn(issuer);
    const before = Date.now();
    assert.equal((await apiLogout(issuer, { refreshToken: tokens.refresh_token })).status, 200);
    const [{ header, event, contentType, path }] = await waitFor('the event', () => receiver.received.length && receiver.received);
    assert.equal(contentType, 'application/json');
    assert.equal(path, '/webhooks/fusionauth');
    assert.equal(header.typ, 'JWT');
    assert.match(header.kid, /^[0-9a-f]{10}$/);
    assert.equal(event.type, 'jwt.refresh-token.revoke');
    assert.match(event.id, /^[0-9a-f-]{36}$/);
    assert.ok(event.createInstant >= before && event.createInstant <= Date.now(), 'createInstant in milliseconds');
    assert.equal(event.tenantId, TENANT_ID);
    assert.equal(event.userId, RICHARD.id);
    assert.equal(event.user.id, RICHARD.id);
    assert.equal(event.user.email, RICHARD.email);
    assert.equal(event.applicationId, APP.clientId);
    assert.deepEqual(event.applicationTimeToLiveInSeconds, { [APP.clientId]: 3600 });
    assert.equal(event.refreshToken.id, tokens.refresh_token_id);
    assert.equal(event.refreshToken.id, decodeJwt(tokens.access_token).payload.sid);
    assert.equal(event.refreshToken.token, tokens.refresh_token);
    assert.equal(event.refreshToken.userId, RICHARD.id);
    assert.equal(event.refreshToken.applicationId, APP.clientId);
    // The delivery log says whom the event was about, and what the receiver answered.
    const delivery = await waitForAsync('the delivery record', async () => (await control(standIn, '/webhook-deliveries'))
      .deliveries.find((d) => d.eventId === event.id));
    assert.deepEqual(
      [delivery.type, delivery.userId, delivery.loginId, delivery.applicationId, delivery.status],
      ['jwt.refresh-token.revoke', RICHARD.id, RICHARD.email, APP.clientId, 200],
    );
  });

  test('POST /api/logout with global: the all-tokens-of-a-user variant (no applicationId, no refreshToken)', async () => {
    const { tokens } = await signIn(issuer);
    await signIn(issuer, { app: OTHER });
    await apiLogout(issuer, { refreshToken: tokens.refresh_token, global: true });
    const [{ event }] = await waitFor('the event', () => receiver.received.length && receiver.received);
    assert.equal(event.type, 'jwt.refresh-token.revoke');
    assert.equal(event.userId, RICHARD.id);
    assert.ok(!('applicationId' in event) && !('refreshToken' in event), JSON.stringify(event));
    assert.deepEqual(event.applicationTimeToLiveInSeconds, { [APP.clientId]: 3600, [OTHER.clientId]: 3600 });
    // nothing left to revoke: a second global logout sends nothing
    await apiLogout(issuer, { refreshToken: tokens.refresh_token, global: true });
    await sleep(200);
    assert.equal(receiver.received.length, 1);
  });

  test('control: revoke-user-sessions revokes every refresh token and SSO session, and says so', async () => {
    const { c, tokens } = await signIn(issuer, { credentials: MONICA });
    const answer = await control(standIn, '/revoke-user-sessions', { loginId: MONICA.email });
    assert.deepEqual(answer.revokedRefreshTokens, [tokens.refresh_token_id]);
    assert.deepEqual(answer.webhooks.map((w) => [w.type, w.status]), [['jwt.refresh-token.revoke', 200]]);
    assert.equal(receiver.received[0].event.userId, MONICA.id);
    assert.equal((await refresh(issuer, tokens.refresh_token)).status, 400);
    assert.equal((await c.request(authorizeUrl(issuer).url)).status, 200, 'the SSO session has ended');
  });

  test('control: deactivate-user refuses the login and revokes; reactivate-user lets the user in again', async () => {
    const { tokens } = await signIn(issuer);
    const answer = await control(standIn, '/deactivate-user', { loginId: RICHARD.email });
    assert.equal(answer.active, false);
    assert.deepEqual(answer.webhooks.map((w) => [w.type, w.status]), [['user.deactivate', 200]]);
    const { event } = receiver.received[0];
    assert.equal(event.user.id, RICHARD.id);
    assert.equal(event.user.active, false);
    assert.deepEqual(event.user.registrations.map((r) => r.applicationId), [APP.clientId, OTHER.clientId]);
    assert.equal((await refresh(issuer, tokens.refresh_token)).status, 400);
    const c = makeClient(issuer);
    await c.request(authorizeUrl(issuer).url);
    const res = await c.postForm('/oauth2/authorize', { loginId: RICHARD.email, password: RICHARD.password });
    assert.match(await res.text(), /Invalid login credentials\./);

    assert.equal((await control(standIn, '/reactivate-user', { loginId: RICHARD.email })).active, true);
    await signIn(issuer);
  });

  test('control: delete-registration revokes that application\'s tokens only; user.registration.delete', async () => {
    const here = await signIn(issuer);
    const there = await signIn(issuer, { app: OTHER });
    const answer = await control(standIn, '/delete-registration', { loginId: RICHARD.email, clientId: OTHER.clientId });
    assert.deepEqual(answer.revokedRefreshTokens, [there.tokens.refresh_token_id]);
    const { event } = receiver.received[0];
    assert.equal(event.type, 'user.registration.delete');
    assert.equal(event.applicationId, OTHER.clientId);
    assert.equal(event.registration.applicationId, OTHER.clientId);
    assert.deepEqual(event.user.registrations.map((r) => r.applicationId), [APP.clientId]);
    assert.equal((await refresh(issuer, there.tokens.refresh_token, { app: OTHER })).status, 400);
    assert.equal((await refresh(issuer, here.tokens.refresh_token)).status, 200);
    await control(standIn, '/delete-registration', { loginId: RICHARD.email, clientId: OTHER.clientId }, { expect: 404 });
  });

  test('control: set-roles sends user.registration.update with the roles before and after', async () => {
    const answer = await control(standIn, '/set-roles', { loginId: RICHARD.email, clientId: APP.clientId, roles: ['user', 'admin'] });
    assert.deepEqual(answer.webhooks.map((w) => w.type), ['user.registration.update']);
    const { event } = receiver.received[0];
    assert.equal(event.applicationId, APP.clientId);
    assert.deepEqual(event.original.roles, ['user']);
    assert.deepEqual(event.registration.roles, ['user', 'admin']);
    await control(standIn, '/set-roles', { loginId: RICHARD.email, clientId: APP.clientId, roles: 'admin' }, { expect: 400 });
    await control(standIn, '/set-roles', { loginId: 'nobody@example.com', clientId: APP.clientId, roles: [] }, { expect: 404 });
  });

  test('control: delete-user sends user.delete; POST /reset brings the kickstart user back', async () => {
    await control(standIn, '/delete-user', { loginId: MONICA.email });
    assert.equal(receiver.received[0].event.type, 'user.delete');
    assert.equal(receiver.received[0].event.user.email, MONICA.email);
    await control(standIn, '/revoke-user-sessions', { loginId: MONICA.email }, { expect: 404 });
    await control(standIn, '/reset', {});
    await signIn(issuer, { credentials: MONICA });
  });

  test('a failed delivery is recorded and logged; the revocation happens anyway', async () => {
    receiver.mode = 'hang';
    const { tokens } = await signIn(issuer);
    const answer = await control(standIn, '/revoke-user-sessions', { loginId: RICHARD.email });
    assert.equal(answer.webhooks[0].status, 0);
    assert.match(answer.webhooks[0].error, /no response within 2000 ms/, 'the webhook\'s readTimeout');
    assert.equal((await refresh(issuer, tokens.refresh_token)).status, 400);
    assert.match(standIn.proc.stderr(), /webhook jwt\.refresh-token\.revoke to .* failed: no response within 2000 ms/);
    const { deliveries } = await control(standIn, '/webhook-deliveries');
    assert.deepEqual(deliveries.at(-1), answer.webhooks[0]);
  });
});

describe('a receiver with another secret', () => {
  test('refuses the stand-in\'s signature (the receiver really verifies)', async () => {
    const receiver = await startReceiver('some-other-secret-0123456789abcdef');
    const standIn = await startStandInProcess({ FUSIONAUTH_WEBHOOK_URL: receiver.url });
    try {
      const answer = await control(standIn, '/set-roles', { loginId: RICHARD.email, clientId: APP.clientId, roles: [] });
      assert.equal(answer.webhooks[0].status, 401);
      assert.deepEqual(receiver.refused, ['bad signature']);
    } finally {
      await standIn.stop();
      await receiver.close();
    }
  });
});
