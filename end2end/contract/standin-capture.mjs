// Captures what the stand-in provider answers to a real login, for the type contract: starts
// end2end/provider/server.mjs on free loopback ports (throw-away key directory), signs the test
// user in through its login form with authorization code + PKCE (the helpers of the stand-in's own
// tests), refreshes once, and returns the JSON bodies and the JWT claims.
//
//   node contract/standin-capture.mjs     prints the capture as JSON
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { decodeJwt, refresh, signIn, startStandInProcess, userinfo } from '../provider/testing.mjs';

function expectStatus(status, expected, what, body) {
  if (status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${status} ${JSON.stringify(body)}`);
}

/**
 * Logs in through the stand-in and returns { tokenResponse, refreshResponse, userinfo,
 * idTokenClaims, refreshedIdTokenClaims, accessTokenClaims, idTokenHeader }.
 */
export async function captureStandIn() {
  const standIn = await startStandInProcess({ ISSUER: '' });
  try {
    const { issuer } = standIn;
    const { tokens: tokenResponse } = await signIn(issuer);
    const info = await userinfo(issuer, tokenResponse.access_token);
    const userinfoBody = await info.json();
    expectStatus(info.status, 200, 'userinfo', userinfoBody);
    const refreshed = await refresh(issuer, tokenResponse.refresh_token);
    expectStatus(refreshed.status, 200, 'refresh', refreshed.body);
    return {
      issuer,
      tokenResponse,
      refreshResponse: refreshed.body,
      userinfo: userinfoBody,
      idTokenHeader: decodeJwt(tokenResponse.id_token).header,
      idTokenClaims: decodeJwt(tokenResponse.id_token).payload,
      refreshedIdTokenClaims: decodeJwt(refreshed.body.id_token).payload,
      accessTokenClaims: decodeJwt(tokenResponse.access_token).payload,
    };
  } finally {
    await standIn.stop();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await captureStandIn(), null, 2));
}
