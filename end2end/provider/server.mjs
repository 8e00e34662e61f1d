#!/usr/bin/env node
// Stand-in for FusionAuth on http://localhost:9011 — run with `npm run provider` in end2end/.
//
// Environment:
//   PORT                  provider port (default 9011); the issuer is http://localhost:<PORT>
//   ISSUER                override the issuer URL
//   CONTROL_PORT          loopback control API for tests (default 9012)
//   ACCESS_TOKEN_TTL_SECS access + ID token lifetime (default: the kickstart application's, 3600)
//   KICKSTART_FILE        kickstart to read (default ../../kickstart/kickstart.json)
//   KICKSTART_VARIABLES   JSON object merged over the kickstart's variables (a second deployment's
//                         URLs, e.g. {"appUrl":"http://app.test:5101","otherAppUrl":"http://other.test:5103"})
//   PROVIDER_DATA_DIR     where keys.json is kept (default provider/.data)
import { startStandIn } from './standin.mjs';

const env = process.env;
const optional = (name) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);

try {
  const standIn = await startStandIn({
    port: optional('PORT') ?? 9011,
    controlPort: optional('CONTROL_PORT') ?? 9012,
    issuer: optional('ISSUER'),
    accessTokenTtlSecs: optional('ACCESS_TOKEN_TTL_SECS'),
    kickstartFile: optional('KICKSTART_FILE'),
    kickstartVariables: optional('KICKSTART_VARIABLES'),
    dataDir: optional('PROVIDER_DATA_DIR'),
  });
  console.log(`stand-in provider listening on ${standIn.issuer}`);

  const shutdown = () => {
    standIn.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
} catch (err) {
  console.error(`stand-in provider failed to start: ${err.message}`);
  process.exit(1);
}
