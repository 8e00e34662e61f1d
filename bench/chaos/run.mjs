#!/usr/bin/env node
// The driver of one chaos run (one session store), started by bench/chaos.sh with a JSON
// configuration: starts the store, two app instances on it and the load balancer, signs up the
// clients, puts them to work, injects the faults one after another, checks every client at the
// end, and writes what happened, phase by phase, to a JSON file (bench/chaos/report.mjs turns it
// into bench/CHAOS.md).
//
//   node bench/chaos/run.mjs CONFIG.json
import fs from 'node:fs';
import path from 'node:path';

import { Load, isNormal } from './load.mjs';
import {
  AppInstance, PostgresStore, RedisStore, killChildren, recordChildrenIn, sleep, startLoadBalancer,
} from './processes.mjs';
import { signUp } from './web.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const log = (...args) => console.error(`[chaos ${config.store} ${new Date().toISOString().slice(11, 19)}]`, ...args);

recordChildrenIn(path.join(config.workDir, 'children.pids'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killChildren();
    process.exit(130);
  });
}
process.on('exit', () => killChildren());

async function control(route, body) {
  const res = await fetch(`${config.controlUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (!answer.ok) throw new Error(`control ${route}: ${JSON.stringify(answer)}`);
  return answer;
}

/** Runs `task(i)` for i < n with `concurrency` in flight. */
async function inParallel(n, concurrency, task) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) await task(next++);
  }));
}

// ---- the processes ----
const store = config.store === 'redis'
  ? new RedisStore({ port: config.redis.port, dir: path.join(config.workDir, 'redis') })
  : new PostgresStore(config.postgres);

const commonEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  NO_COLOR: '1',
  CLIENT_ID: config.clientId,
  CLIENT_SECRET: config.clientSecret,
  ISSUER: config.issuer,
  APP_URL: config.appUrl,
  APP_SECRET_KEY: config.appSecretKey,
  FUSIONAUTH_WEBHOOK_SECRET: config.webhookSecret,
  SESSION_DATABASE_URL: store.url,
  OIDC_HTTP_TIMEOUT_SECS: String(config.providerTimeoutSecs),
  RUST_LOG: 'info,sqlx=warn,tower_sessions=warn',
  LEPTOS_OUTPUT_NAME: 'leptos-fusionauth',
  LEPTOS_SITE_ROOT: config.siteRoot,
  LEPTOS_SITE_PKG_DIR: 'pkg',
};
const instances = config.instancePorts.map((port, i) => new AppInstance({
  name: 'AB'[i],
  bin: config.appBin,
  port,
  dir: path.join(config.workDir, `instance-${'AB'[i]}`),
  env: { ...commonEnv, LEPTOS_SITE_ADDR: `127.0.0.1:${port}` },
}));

const schedule = config.schedule;
/** The app's session store timeouts (Redis command timeout, PostgreSQL pool acquire timeout). */
const STORE_TIMEOUT_MS = 2000;
const lockTtlSecs = 2 * config.providerTimeoutSecs + 5;
const tokenDelayMs = (lockTtlSecs + schedule.slowBeyondLockSecs) * 1000;

/** The phases: a baseline, then one per fault (from its start to the next fault's). */
const phases = [];
const newPhase = (name, title) => {
  const phase = { name, title, start: Date.now(), faultStart: null, faultEnd: null, end: null, notes: [] };
  if (phases.length) phases[phases.length - 1].end = phase.start;
  phases.push(phase);
  return phase;
};

/**
 * Every token request held longer than the refresh lock lives. `dropAbandoned`: a held request
 * whose client (the app, at its provider timeout) gave up is dropped by the provider (the
 * control); otherwise it is made when its time is up, as a slow FusionAuth would.
 */
async function slowTokenEndpoint(phase, dropAbandoned) {
  phase.faultStart = Date.now();
  await control('/token-delay', { ms: tokenDelayMs, dropAbandoned });
  await sleep(schedule.slowSecs * 1000);
  const { tokenDelay } = await control('/token-delay', { ms: 0 });
  phase.faultEnd = Date.now();
  phase.notes.push(`every token request held ${tokenDelayMs / 1000} s (refresh lock ${lockTtlSecs} s, the app's provider timeout ${config.providerTimeoutSecs} s) for ${schedule.slowSecs} s; `
    + `${tokenDelay.held} still held when the delay was lifted (${dropAbandoned ? 'dropped when their time is up, if their client has gone' : 'made when their time is up'})`);
  if (dropAbandoned) {
    await sleep(tokenDelayMs + 500);
    phase.notes.push(`${(await control('/token-delay')).tokenDelay.dropped} abandoned token requests dropped so far`);
  }
}

const FAULTS = {
  async 'store-restart'(phase) {
    phase.faultStart = Date.now();
    await store.stop();
    phase.notes.push(`store stopped after ${Date.now() - phase.faultStart} ms`);
    await sleep(schedule.storeDownSecs * 1000);
    await store.start();
    phase.faultEnd = Date.now();
    phase.notes.push(`store down ${((phase.faultEnd - phase.faultStart) / 1000).toFixed(1)} s (stop, ${schedule.storeDownSecs} s, start until it accepts connections)`);
  },
  async 'instance-kill'(phase) {
    const victim = instances[0];
    phase.faultStart = Date.now();
    await victim.kill();
    await sleep(schedule.killDownSecs * 1000);
    phase.faultEnd = Date.now();
    await victim.start();
    phase.notes.push(`instance ${victim.name} killed (SIGKILL), started again after ${schedule.killDownSecs} s; /healthz answered ${Date.now() - phase.faultEnd} ms after the start`);
  },
  async 'key-rotation'(phase) {
    phase.faultStart = Date.now();
    const { previousKid, kid } = await control('/rotate-key', {});
    phase.faultEnd = Date.now();
    phase.notes.push(`signing key ${previousKid} → ${kid}; the old key left the JWKS`);
  },
  async 'provider-down'(phase) {
    phase.faultStart = Date.now();
    await control('/stop', {});
    await sleep(schedule.providerDownSecs * 1000);
    await control('/start', {});
    phase.faultEnd = Date.now();
    phase.notes.push(`provider port closed for ${((phase.faultEnd - phase.faultStart) / 1000).toFixed(1)} s`);
  },
  'slow-token-endpoint-dropped': (phase) => slowTokenEndpoint(phase, true),
  'slow-token-endpoint': (phase) => slowTokenEndpoint(phase, false),
};

const FAULT_TITLES = {
  'store-restart': `Session store restarts (${config.store === 'redis' ? 'Redis' : 'PostgreSQL'}, persistence on)`,
  'instance-kill': 'One app instance killed (SIGKILL) and started again',
  'key-rotation': "FusionAuth's signing key rotates",
  'provider-down': `FusionAuth down for ${schedule.providerDownSecs} s`,
  'slow-token-endpoint-dropped': `Token endpoint slower than the refresh lock's lifetime (${tokenDelayMs / 1000} s > ${lockTtlSecs} s), abandoned requests dropped (control)`,
  'slow-token-endpoint': `Token endpoint slower than the refresh lock's lifetime (${tokenDelayMs / 1000} s > ${lockTtlSecs} s), abandoned requests still made`,
};

// ---- how loaded the machine and the provider are (the provider's answer time shows its event loop's lag) ----
const probes = []; // { t, providerMs, load1 }
function startProbes() {
  const timer = setInterval(async () => {
    const t = Date.now();
    let providerMs = null;
    try {
      const res = await fetch(`${config.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      if (res.ok) providerMs = Date.now() - t;
    } catch { /* down: null */ }
    const load1 = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    probes.push({ t, providerMs, load1 });
  }, 500);
  return () => clearInterval(timer);
}

// ---- analysis ----
const phaseOf = (t) => {
  let index = 0;
  for (let i = 0; i < phases.length; i += 1) if (t >= phases[i].start) index = i;
  return index;
};

/** Log lines of the instances worth counting: WARN/ERROR, and the INFO lines of the refresh and sign-out paths. */
function readLogs() {
  const lines = [];
  const interesting = /refresh|lock|sign-out|signed out|unknown key|JWKS|store|session|revoked|webhook/i;
  for (const inst of instances) {
    for (const raw of fs.readFileSync(inst.log, 'utf8').split('\n')) {
      const line = raw.replace(/\x1b\[[0-9;]*m/g, '');
      const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)\s+(\w+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const [, ts, level, rest] = m;
      if (!(level === 'WARN' || level === 'ERROR' || (level === 'INFO' && interesting.test(rest)))) continue;
      // "span{...}: target: message key=value ..." → the message without its fields
      const afterTarget = rest.replace(/^(?:\S+\{[^}]*\}:\s*)*[\w:]+:\s*/, '');
      const message = afterTarget
        .replace(/\s+\w+=("[^"]*"|\S+)/g, '') // key=value fields
        .replace(/\{[^{}]*\}/g, '{…}') // Debug-printed values (user ids, tokens)
        .replace(/fred-\w+:/g, 'fred:')
        .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
        .trim();
      const subject = /subject=([0-9a-f-]{36})/.exec(rest)?.[1];
      lines.push({ t: Date.parse(ts), level, instance: inst.name, message, subject, line });
    }
  }
  return lines.sort((a, b) => a.t - b.t);
}

/** Adds one to `counts[key]`. */
const bump = (counts, key) => { counts[key] = (counts[key] ?? 0) + 1; };

/** The figures of one phase, all zero. */
function emptyFigures(p) {
  return {
    name: p.name,
    title: p.title,
    start: p.start,
    faultStart: p.faultStart,
    faultEnd: p.faultEnd,
    end: p.end,
    notes: p.notes,
    requests: 0,
    served: 0,
    byInstance: Object.fromEntries(instances.map((i) => [i.name, { served: 0, kinds: {}, lastAbnormal: null, firstAbnormal: null }])),
    kinds: {},
    kindsByRole: {},
    non2xx3xx: { total: 0, storePageDuringOutage: 0, storePageAfterOutage: 0, other: {} },
    connectionErrors: {},
    staleProfiles: 0,
    sessionsLost: 0,
    lostDetails: [],
    logoutsUndone: 0,
    undoneDetails: [],
    logouts: { done: 0, unrecorded: 0, failedAttempts: 0 },
    wrongUser: 0,
    cameBack: 0,
    refreshExchanges: { total: 0, ok: 0, refused: 0 },
    spentTwice: 0,
    spentTwiceDetails: [],
    logCounts: {},
    recoverySecs: null,
  };
}

// An answer counts in the phase it came back in (a request sent just before a fault and answered
// during it saw the fault).
function countAnswer(out, a) {
  const p = out[phaseOf(a.t1)];
  const inst = p.byInstance['AB'[a.inst]];
  p.requests += 1;
  bump(p.kinds, a.kind);
  p.kindsByRole[a.role] ??= {};
  bump(p.kindsByRole[a.role], a.kind);
  bump(inst.kinds, a.kind);
  if (a.status > 0) {
    p.served += 1;
    inst.served += 1;
    if (a.status < 200 || a.status >= 400) countNon2xx3xx(p, a);
  } else {
    bump(p.connectionErrors, a.kind);
  }
  if (a.kind === 'profile-stale' && a.role === 'in') p.staleProfiles += 1;
  const abnormal = a.role === 'logout' ? (a.status === 0 || a.status >= 400) : !isNormal(a.role, a.kind);
  if (abnormal && p.faultStart !== null) {
    inst.lastAbnormal = Math.max(inst.lastAbnormal ?? 0, a.t1);
    inst.firstAbnormal = Math.min(inst.firstAbnormal ?? Infinity, a.t1);
  }
}

function countNon2xx3xx(p, a) {
  p.non2xx3xx.total += 1;
  if (a.kind !== 'store-503') {
    bump(p.non2xx3xx.other, a.kind);
    return;
  }
  // answered while the store was down, or within the store client's timeout (2 s) after
  const during = p.name === 'store-restart' && a.t1 >= p.faultStart && a.t1 <= p.faultEnd + STORE_TIMEOUT_MS + 500;
  if (during) p.non2xx3xx.storePageDuringOutage += 1;
  else p.non2xx3xx.storePageAfterOutage += 1;
}

const isoTime = (ms) => new Date(ms).toISOString();

/** What the clients saw happen: sessions lost, logouts done and undone, and the rest. */
function countEvent(out, e, { load, ledger, logOf }) {
  const p = out[phaseOf(e.t)];
  if (e.type === 'lost') {
    p.sessionsLost += 1;
    const spent = ledger.spentTwice.filter((x) => x.loginId === e.email);
    p.lostDetails.push({
      ...e,
      exchanges: spent.flatMap((x) => x.exchanges).map((x) => ({
        arrivedAt: isoTime(x.arrivedAt), answeredAt: isoTime(x.endedAt), status: x.status, rotated: x.rotated,
      })),
      log: logOf(e.email).slice(-12),
    });
  } else if (e.type === 'undone') {
    if (out.some((q) => q.undoneDetails.some((d) => d.client === e.client))) return;
    p.logoutsUndone += 1;
    const logout = load.events.find((x) => x.type === 'logout' && x.client === e.client);
    const profiles = load.answers.filter((a) => a.client === e.client && a.role === 'out' && a.kind.startsWith('profile'));
    p.undoneDetails.push({
      ...e,
      logout,
      profileAnswers: profiles.map((a) => ({ sentAt: isoTime(a.t0), answeredAt: isoTime(a.t1), instance: 'AB'[a.inst] })),
      log: logOf(e.email).slice(-8),
    });
  } else if (e.type === 'logout') {
    p.logouts.done += 1;
    if (e.unrecorded) p.logouts.unrecorded += 1;
  } else if (e.type === 'logout-failed') {
    p.logouts.failedAttempts += 1;
  } else if (e.type === 'wrong-user') {
    p.wrongUser += 1;
  } else if (e.type === 'came-back') {
    p.cameBack += 1;
  }
}

/** Refresh-token exchanges at the provider, by the phase they arrived in; then the double spends. */
function countExchanges(out, ledger, { byEmail, logOf }) {
  for (const t of ledger.exchangesByArrival ?? []) {
    const p = out[phaseOf(t.arrivedAt)];
    p.refreshExchanges.total += 1;
    if (t.status === 200) p.refreshExchanges.ok += 1;
    else p.refreshExchanges.refused += 1;
  }
  for (const token of ledger.spentTwice) {
    const second = token.exchanges[1];
    const p = out[phaseOf(second.arrivedAt)];
    p.spentTwice += 1;
    const client = byEmail.get(token.loginId);
    const first = token.exchanges[0].arrivedAt;
    p.spentTwiceDetails.push({
      tokenId: token.tokenId,
      loginId: token.loginId,
      clientLost: client ? client.role === 'lost' : null,
      clientLoggedOutAt: client?.loggedOutAt ? isoTime(client.loggedOutAt) : null,
      log: logOf(token.loginId, (l) => l.t >= first - 2000 && l.t <= second.endedAt + 2000).slice(0, 12),
      exchanges: token.exchanges.map((x) => ({
        arrivedAt: isoTime(x.arrivedAt), madeAt: isoTime(x.startedAt), answeredAt: isoTime(x.endedAt), status: x.status, rotated: x.rotated,
      })),
    });
  }
}

const quantile = (values, q) => {
  const v = values.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : null;
};

/** How far behind the provider and the machine were in each phase (the probes). */
function probeFigures(p, i) {
  const mine = probes.filter((x) => phaseOf(x.t) === i);
  p.provider = {
    answerMsP50: quantile(mine.map((x) => x.providerMs), 0.5),
    answerMsMax: quantile(mine.map((x) => x.providerMs), 1),
    loadAverageMax: quantile(mine.map((x) => x.load1), 1),
  };
  if (p.faultStart !== null) {
    const near = probes.filter((x) => Math.abs(x.t - p.faultStart) <= 3000).map((x) => x.providerMs);
    p.provider.answerMsMaxNearFaultStart = quantile(near, 1);
  }
}

/** Per instance, the time from the fault's end to its last answer that was not normal. */
function recoveryFigures(p) {
  if (p.faultEnd === null) return;
  const perInstance = {};
  for (const [name, inst] of Object.entries(p.byInstance)) {
    perInstance[name] = inst.lastAbnormal === null ? 0 : Math.max(0, (inst.lastAbnormal - p.faultEnd) / 1000);
  }
  p.recoveryPerInstance = perInstance;
  p.recoverySecs = Math.max(...Object.values(perInstance));
  p.observedSecs = (p.end - p.faultEnd) / 1000;
}

function analyse(load, ledger, logLines) {
  const byEmail = new Map(load.clients.map((c) => [c.email, c]));
  // The log lines of a client's session (by its subject), optionally only those `keep` takes.
  const logOf = (email, keep = () => true) => {
    const subject = byEmail.get(email)?.subject;
    return logLines.filter((l) => l.subject && l.subject === subject && keep(l)).map((l) => l.line);
  };
  const out = phases.map(emptyFigures);
  for (const a of load.answers) countAnswer(out, a);
  for (const e of load.events) countEvent(out, e, { load, ledger, logOf });
  countExchanges(out, ledger, { byEmail, logOf });
  for (const l of logLines) bump(out[phaseOf(l.t)].logCounts, `${l.level} ${l.message}`);
  out.forEach(probeFigures);
  out.forEach(recoveryFigures);
  return out;
}

// ---- the run ----
async function main() {
  fs.mkdirSync(config.workDir, { recursive: true });
  log(`starting the store (${store.kind})`);
  await store.start();
  for (const inst of instances) {
    log(`starting app instance ${inst.name} on 127.0.0.1:${inst.port}`);
    await inst.start(); // one after the other: the first one creates the PostgreSQL tables
  }
  const lb = await startLoadBalancer(config.lbPort, config.instancePorts);
  await control('/settings', { clientId: config.clientId, refreshTokenUsagePolicy: config.refreshTokenPolicy });

  log(`signing up ${config.clients} clients (each its own user) through the load balancer`);
  const load = new Load({
    instances: instances.map((i) => ({ name: i.name, port: i.port })), appOrigin: new URL(config.appUrl).origin, gapMs: schedule.gapMs,
  });
  const runId = Date.now().toString(36);
  const signUpT0 = Date.now();
  const signUpFailures = [];
  // spread over one access-token lifetime, so that the sessions' refreshes are spread over the
  // refresh period instead of coming in bursts that a fault would hit or miss
  const spacingMs = (config.accessTokenTtlSecs * 1000) / config.clients;
  await inParallel(config.clients, 8, async (i) => {
    const wait = signUpT0 + i * spacingMs - Date.now();
    if (wait > 0) await sleep(wait);
    const email = `chaos-${runId}-${i}@example.com`;
    try {
      const { cookie, subject } = await signUp({
        appUrl: config.appUrl, connect: `http://127.0.0.1:${config.lbPort}`, email, password: 'chaos-password', firstName: 'Chaos', lastName: `Client ${i}`,
      });
      load.addClient({ email, subject, cookie });
    } catch (err) {
      signUpFailures.push(String(err.message));
    }
  });
  const signUpSecs = (Date.now() - signUpT0) / 1000;
  log(`${load.clients.length} clients signed in in ${signUpSecs.toFixed(1)} s (${signUpFailures.length} failed)`);
  if (load.clients.length < config.clients * 0.9) throw new Error(`sign-ups failed: ${signUpFailures.slice(0, 3).join('; ')}`);

  const started = Date.now();
  const stopProbes = startProbes();
  newPhase('baseline', 'No fault (baseline)');
  load.start();
  const planned = schedule.order.reduce((s, name) => s + schedule.observeSecs[name] + 40, schedule.baselineSecs);
  load.planLogouts(schedule.logoutShare, started + 5000, started + planned * 1000);
  await sleep(schedule.baselineSecs * 1000);

  for (const name of schedule.order) {
    const phase = newPhase(name, FAULT_TITLES[name]);
    log(`fault: ${phase.title}`);
    // a few clients log out while the fault is on
    const logoutTimer = setTimeout(() => load.logoutNow(schedule.logoutsPerFault), 300);
    await FAULTS[name](phase);
    clearTimeout(logoutTimer);
    log(`fault over after ${((phase.faultEnd - phase.faultStart) / 1000).toFixed(1)} s; observing ${schedule.observeSecs[name]} s`);
    await sleep(schedule.observeSecs[name] * 1000);
  }
  phases[phases.length - 1].end = Date.now();
  await load.stop();
  stopProbes();
  log('load stopped; checking every client on both instances');
  const finalCheck = await load.finalCheck();

  const exchanges = await control('/refresh-token-exchanges');
  // every exchange's arrival, for the per-phase refresh counts (the report lists only the double spends in full)
  const ledger = { ...exchanges, exchangesByArrival: exchanges.arrivals.map(([arrivedAt, status]) => ({ arrivedAt, status })) };
  const storeRecords = await store.records();
  const logLines = readLogs();
  const result = {
    store: config.store,
    storeSetup: store.describe(),
    date: new Date(started).toISOString(),
    config: {
      clients: load.clients.length,
      signUpFailures,
      signUpSecs,
      gapMs: schedule.gapMs,
      bothEvery: load.bothEvery,
      accessTokenTtlSecs: config.accessTokenTtlSecs,
      refreshTokenPolicy: config.refreshTokenPolicy,
      providerTimeoutSecs: config.providerTimeoutSecs,
      lockTtlSecs,
      tokenDelayMs,
      schedule,
    },
    phases: analyse(load, ledger, logLines),
    finalCheck,
    totals: {
      requests: load.answers.length,
      exchanges: exchanges.exchanges,
      refreshTokens: exchanges.refreshTokens,
      spentTwice: exchanges.spentTwice.length,
      overlappingExchanges: exchanges.overlapping,
      lost: load.clients.filter((c) => c.role === 'lost').length,
      loggedOut: load.clients.filter((c) => c.role === 'out').length,
      stillSignedIn: load.clients.filter((c) => c.role === 'in').length,
    },
    storeRecordsAtEnd: storeRecords,
    logs: instances.map((i) => i.log),
    durationSecs: (Date.now() - started) / 1000,
  };
  fs.writeFileSync(config.out, `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${config.out}`);

  load.close();
  lb.close();
  for (const inst of instances) await inst.stop();
  if (store.kind === 'redis') await store.stop();
}

main().then(() => process.exit(0), (err) => {
  console.error(`chaos run failed: ${err.stack ?? err}`);
  killChildren();
  process.exit(1);
});
