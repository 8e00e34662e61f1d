#!/usr/bin/env node
// Turns the results of bench/chaos.sh (one JSON per store, from bench/chaos/run.mjs) into
// bench/CHAOS.md. The "## Findings" section of an existing CHAOS.md (the explanation of the
// figures, written by hand) is kept as it is. Exits 3 when a figure that must be 0 is not.
//
//   node bench/chaos/report.mjs META.json CHAOS.md RESULT.json...
import fs from 'node:fs';

const [metaFile, outFile, ...resultFiles] = process.argv.slice(2);
const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
const results = resultFiles.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));

const int = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const secs = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(1)} s`);
const storeName = (s) => (s === 'redis' ? 'Redis' : 'PostgreSQL');
const time = (ms) => new Date(ms).toISOString().slice(11, 19);
const list = (obj) => Object.entries(obj).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${int(v)}`).join(', ') || '–';
const KIND_NOTES = {
  profile: 'the profile, token fresh',
  'profile-stale': 'the profile, access token shown as expired (its refresh is failing)',
  guest: 'the guest page',
  'guest-notice': 'the guest page with "Your session has ended at the identity provider"',
  'store-503': 'the 503 "Session store unavailable" page',
};

function non2xx(p) {
  const parts = [];
  if (p.non2xx3xx.storePageDuringOutage) parts.push(`${int(p.non2xx3xx.storePageDuringOutage)} × 503 store page while the store was down³`);
  if (p.non2xx3xx.storePageAfterOutage) parts.push(`**${int(p.non2xx3xx.storePageAfterOutage)} × 503 store page outside the outage**`);
  for (const [k, v] of Object.entries(p.non2xx3xx.other)) parts.push(`**${int(v)} × ${k}**`);
  return parts.length ? `${int(p.non2xx3xx.total)}: ${parts.join('; ')}` : '0';
}

const bad = (n) => (n ? `**${int(n)}**` : '0');

function summaryTable(r) {
  const rows = [
    '| Phase | Requests served (A / B) | Not answered by the instance asked¹ | Answers other than 2xx/3xx | Sessions lost | Logouts undone | Refresh tokens spent twice | Every instance normal again after |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const p of r.phases) {
    const conn = Object.values(p.connectionErrors).reduce((s, v) => s + v, 0);
    rows.push(`| ${p.title} | ${int(p.served)} (${int(p.byInstance.A.served)} / ${int(p.byInstance.B.served)}) | ${conn ? `${int(conn)} (${list(p.connectionErrors)})` : '0'} | ${non2xx(p)} | ${bad(p.sessionsLost)} | ${bad(p.logoutsUndone)} | ${bad(p.spentTwice)} | ${p.faultEnd === null ? '–' : secs(p.recoverySecs)} |`);
  }
  const sum = (f) => r.phases.reduce((s, p) => s + f(p), 0);
  rows.push(`| **Whole run** | ${int(sum((p) => p.served))} | ${int(sum((p) => Object.values(p.connectionErrors).reduce((s, v) => s + v, 0)))} | ${int(sum((p) => p.non2xx3xx.total))} (${int(sum((p) => p.non2xx3xx.total - p.non2xx3xx.storePageDuringOutage))} outside the store outage) | ${bad(sum((p) => p.sessionsLost))} | ${bad(sum((p) => p.logoutsUndone))} | ${bad(r.totals.spentTwice)} | |`);
  return rows.join('\n');
}

function phaseDetails(r, p) {
  const lines = [`#### ${p.title}`, ''];
  if (p.faultStart !== null) {
    lines.push(`Fault ${time(p.faultStart)}–${time(p.faultEnd)} UTC; observed until ${time(p.end)} (${secs(p.observedSecs)} after the fault ended). ${p.notes.join('; ')}.`, '');
    lines.push(`- Back to normal after the fault ended: ${Object.entries(p.recoveryPerInstance).map(([k, v]) => `instance ${k} ${secs(v)}`).join(', ')} (the last answer that was not normal²).`);
  } else {
    lines.push(`${time(p.start)}–${time(p.end)} UTC.`, '');
  }
  const roles = {
    in: 'signed-in clients', out: "logged-out clients' old cookies", lost: 'clients whose session was lost', 'alongside-logout': 'pages asked alongside a logout', logout: 'logout posts',
  };
  lines.push(`- Answers: ${Object.entries(roles).filter(([r]) => p.kindsByRole[r]).map(([r, name]) => `${name}: ${list(p.kindsByRole[r])}`).join('; ')}.`);
  lines.push(`- Refresh-token exchanges at the provider: ${int(p.refreshExchanges.total)} (${int(p.refreshExchanges.ok)} granted, ${int(p.refreshExchanges.refused)} refused); pages showing an expired access token: ${int(p.staleProfiles)}.`);
  if (p.provider) {
    lines.push(`- Provider discovery answered in ${p.provider.answerMsP50 ?? '–'} ms (median), ${p.provider.answerMsMax ?? '–'} ms at most${p.provider.answerMsMaxNearFaultStart !== undefined ? ` (${p.provider.answerMsMaxNearFaultStart ?? '–'} ms at most within 3 s of the fault's start)` : ''}: how far behind its event loop was; machine load average up to ${p.provider.loadAverageMax} on ${meta.machine.split(' ')[0]} cores.`);
  }
  lines.push(`- Logouts: ${int(p.logouts.done)} done${p.logouts.unrecorded ? ` (${int(p.logouts.unrecorded)} "not recorded yet": the store was down)` : ''}${p.logouts.failedAttempts ? `, ${int(p.logouts.failedAttempts)} attempts answered with something other than a redirect (tried again)` : ''}.`);
  if (p.wrongUser) lines.push(`- **Another user's profile shown: ${int(p.wrongUser)}.**`);
  if (p.cameBack) lines.push(`- Lost sessions that showed the profile again later: ${int(p.cameBack)}.`);
  const logs = Object.entries(p.logCounts).filter(([k]) => !k.startsWith('INFO access token refreshed')).sort((a, b) => b[1] - a[1]).slice(0, 12);
  if (logs.length) {
    lines.push('- Instance log lines (both instances; WARN/ERROR, and INFO of the refresh and sign-out paths; "record not found in store" is tower-sessions on every request with the cookie of a deleted session: the old cookies of logged-out clients):');
    for (const [k, v] of logs) lines.push(`  - ${int(v)} × \`${k.replace(/`/g, "'").slice(0, 180)}\``);
  }
  for (const d of p.lostDetails.slice(0, 2)) {
    lines.push(`- Session lost: client ${d.email} saw ${d.kind === 'guest-notice' ? 'the guest page with the "session has ended at the identity provider" notice' : 'the guest page'} from instance ${d.instance} at ${new Date(d.t).toISOString()}; its log lines:`);
    lines.push('', '  ```', ...(d.log.length ? d.log.map((l) => `  ${l}`) : ['  (none)']), '  ```', '');
    if (d.exchanges?.length) lines.push(`  Its refresh token at the provider: ${d.exchanges.map((x) => `arrived ${x.arrivedAt.slice(11, 23)}, answered ${x.answeredAt.slice(11, 23)}: ${x.status}${x.rotated ? ' (rotated)' : ''}`).join('; ')}.`, '');
  }
  for (const d of p.spentTwiceDetails.slice(0, 2)) {
    const fate = d.clientLost === null ? '' : d.clientLost ? ' (its session was lost)' : d.clientLoggedOutAt ? ` (the client logged out at ${d.clientLoggedOutAt})` : ' (its session survived)';
    lines.push(`- Refresh token spent twice: id ${d.tokenId} of ${d.loginId}${fate}; exchanges at the provider:`);
    for (const x of d.exchanges) lines.push(`  - arrived ${x.arrivedAt}, made ${x.madeAt}, answered ${x.answeredAt}: ${x.status}${x.rotated ? ', rotated' : ''}`);
    if (d.log?.length) lines.push('', '  the client\'s log lines around them:', '', '  ```', ...d.log.map((l) => `  ${l}`), '  ```', '');
  }
  for (const d of p.undoneDetails.slice(0, 2)) {
    const lo = d.logout;
    lines.push(`- Logout undone: client ${d.email} logged out on instance ${lo?.instance} at ${lo ? new Date(lo.t).toISOString() : '?'} (answer ${lo?.status}${lo?.unrecorded ? ', "local sign-out not recorded": the store did not answer' : ''}); its old cookie then got the profile ${d.profileAnswers.length} time(s): ${d.profileAnswers.slice(0, 4).map((a) => `from ${a.instance}, sent ${a.sentAt.slice(11, 23)}, answered ${a.answeredAt.slice(11, 23)}`).join('; ')}. Its log lines:`);
    lines.push('', '  ```', ...(d.log.length ? d.log.map((l) => `  ${l}`) : ['  (none)']), '  ```', '');
  }
  lines.push('');
  return lines.join('\n');
}

function storeSection(r) {
  const c = r.config;
  const lines = [
    `## ${storeName(r.store)}`,
    '',
    `Run started ${r.date}, ${secs(r.durationSecs)} of load. Store: ${r.storeSetup}. ${int(c.clients)} clients signed up in ${secs(c.signUpSecs)}${c.signUpFailures.length ? ` (${c.signUpFailures.length} sign-ups failed)` : ''}. Records in the store at the end: ${r.storeRecordsAtEnd}.`,
    '',
    summaryTable(r),
    '',
    `Final check, after the load (every client once on each instance): signed-in clients ${int(r.finalCheck.in.normal)}/${int(r.finalCheck.in.checked)} answers normal${Object.keys(r.finalCheck.in.other).length ? ` (others: ${list(r.finalCheck.in.other)})` : ''}; logged-out clients' old cookies ${int(r.finalCheck.out.normal)}/${int(r.finalCheck.out.checked)} got the guest page${Object.keys(r.finalCheck.out.other).length ? ` (others: **${list(r.finalCheck.out.other)}**)` : ''}. At the end ${int(r.totals.stillSignedIn)} clients were signed in, ${int(r.totals.loggedOut)} logged out, ${int(r.totals.lost)} lost. The provider saw ${int(r.totals.exchanges)} refresh-token exchanges of ${int(r.totals.refreshTokens)} token values; exchanges of one value in flight at the same time: ${int(r.totals.overlappingExchanges)}.`,
    '',
    '### Per phase',
    '',
    ...r.phases.map((p) => phaseDetails(r, p)),
  ];
  return lines.join('\n');
}

const existing = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
const findingsAt = existing.indexOf('\n## Findings');
const findings = findingsAt >= 0 ? existing.slice(findingsAt + 1).trimEnd()
  : '## Findings\n\n(What the figures mean, with the evidence: written by hand after a run; bench/chaos/report.mjs keeps this section.)';

const c0 = results[0]?.config ?? {};
const header = [
  '# Faults survived, measured (bench/chaos.sh)',
  '',
  `Generated by \`${meta.invocation}\` on ${meta.date.slice(0, 10)} (commit ${meta.commit}; binary ${meta.binary.path}, built ${meta.binary.built}, sha256 ${meta.binary.sha256}…; Redis ${meta.versions.redis}, PostgreSQL ${meta.versions.postgres}, node ${meta.versions.node}; ${meta.machine}). Logs of every process were kept in \`${meta.logs}\`.`,
  '',
  '**Setup.** Two instances of the release binary (A and B) on one session store, behind a load balancer (round robin; a refused connection goes to the other instance) on `APP_URL`, which the provider\'s redirects and webhooks reach. '
  + `${int(c0.clients)} clients, each a user of its own signed up through the app, send GET / every ${c0.gapMs?.[0]}–${c0.gapMs?.[1]} ms to instance A or B directly with the same session cookie (every ${c0.bothEvery}th time to both at once, like two tabs); a refused or reset connection is retried on the other instance (counted as not answered by the first). `
  + `The stand-in FusionAuth (end2end/provider) issues access tokens for ${c0.accessTokenTtlSecs} s, so every session refreshes every ~${Math.round(c0.accessTokenTtlSecs * 0.75)} s; refresh tokens are **${c0.refreshTokenPolicy}**${c0.refreshTokenPolicy === 'OneTimeUse' ? ' (rotated at every refresh: the stand-in records every exchange and reports a value presented again, whatever the answer, as a refresh token spent twice)' : ''}. `
  + `App settings: \`OIDC_HTTP_TIMEOUT_SECS=${c0.providerTimeoutSecs}\` (refresh lock ${c0.lockTtlSecs} s), everything else default. `
  + `${Math.round((c0.schedule?.logoutShare ?? 0) * 100)} % of the clients log out at random times and ${c0.schedule?.logoutsPerFault} more right after each fault begins (POST /api/logout on one instance while the other serves the same session a page); they keep sending their old cookie afterwards.`,
  '',
  '**What is counted.** *Requests served*: HTTP answers from the instances (any status). *Answers other than 2xx/3xx*: only the 503 "Session store unavailable" page while the store is down is expected. *Sessions lost*: a signed-in client that did not log out gets the guest page. *Logouts undone*: a client that logged out (the app answered the logout with a redirect) gets the profile with its old cookie later. *Refresh tokens spent twice*: from the stand-in\'s ledger, by the time the second exchange arrived. *Normal again*: per instance, the time from the end of the fault to its last answer that was not normal (for a signed-in client: anything but the profile with a fresh token, a refused or reset connection included; for a logged-out one: anything but the guest page); 0 when nothing abnormal came after the fault ended.',
  '',
  'Answers count in the phase they came back in. ¹ Connections refused or reset (the killed instance), or our 20 s client timeout; a refused or reset request then went to the other instance. ² An abnormal answer caused by an earlier fault that shows up late counts too. ³ Answered between the store\'s stop and 2.5 s after it accepted connections again (the app gives a store operation 2 s).',
  '',
];

const mustBeZero = results.reduce((n, r) => n + r.phases.reduce((s, p) => s + p.sessionsLost + p.logoutsUndone + p.wrongUser + p.non2xx3xx.total - p.non2xx3xx.storePageDuringOutage, 0) + r.totals.spentTwice, 0);
const body = [...header, ...results.map(storeSection), findings, ''].join('\n');
fs.writeFileSync(outFile, body);
if (mustBeZero) process.exitCode = 3;
