// The processes of one chaos run that the driver starts, kills and restarts itself: the two app
// instances, the session store (a redis-server of its own, or a private PostgreSQL cluster
// through pg_ctl), and the load balancer in front of the instances (in this process). Every child
// is written to a pid file, so that bench/chaos.sh can stop what a killed driver left behind.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

export const sleep = (ms) => new Promise((ok) => { setTimeout(ok, ms); });

const children = new Set();
let pidFile;

export function recordChildrenIn(file) {
  pidFile = file;
}

function track(child) {
  children.add(child);
  if (pidFile) fs.appendFileSync(pidFile, `${child.pid}\n`);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every child still running (on exit, normal or not). */
export function killChildren(signal = 'SIGKILL') {
  for (const child of children) {
    try { child.kill(signal); } catch { /* gone */ }
  }
}

function run(cmd, args, opts = {}) {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { timeout: 60_000, ...opts }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`));
      else ok(stdout);
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function tcpOpen(port) {
  return new Promise((ok) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); ok(true); });
    socket.once('error', () => ok(false));
  });
}

async function waitFor(what, check, timeoutMs = 60_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

async function httpOk(port, urlPath) {
  return new Promise((ok) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 1000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => ok(false));
  });
}

/** One app instance: the release binary with `env`, its log appended to `log` across restarts. */
export class AppInstance {
  constructor({ name, bin, port, env, dir }) {
    Object.assign(this, { name, bin, port, env, dir });
    this.log = path.join(dir, `${name}.log`);
    this.child = null;
    this.starts = 0;
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    const out = fs.openSync(this.log, 'a');
    fs.writeSync(out, `--- chaos: ${this.name} started at ${new Date().toISOString()}\n`);
    // cwd: a directory without .env (the app reads .env from its working directory upwards)
    this.child = track(spawn(this.bin, [], { cwd: this.dir, env: this.env, stdio: ['ignore', out, out] }));
    fs.closeSync(out);
    this.starts += 1;
    const { child } = this;
    await waitFor(`app instance ${this.name}`, async () => {
      if (child.exitCode !== null) throw new Error(`app instance ${this.name} exited (${child.exitCode}); see ${this.log}`);
      return httpOk(this.port, '/healthz');
    });
  }

  /** SIGKILL: a crash, nothing finishes. */
  async kill() {
    const { child } = this;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    fs.appendFileSync(this.log, `--- chaos: ${this.name} killed (SIGKILL) at ${new Date().toISOString()}\n`);
    child.kill('SIGKILL');
    await exited;
  }

  async stop() {
    const { child } = this;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** redis-server on `port` with the append-only file on (every write logged, fsync each second). */
export class RedisStore {
  kind = 'redis';

  constructor({ port, dir }) {
    Object.assign(this, { port, dir });
    this.url = `redis://127.0.0.1:${port}`;
    this.child = null;
  }

  describe() {
    return 'redis-server, appendonly yes (appendfsync everysec), its own port; restart = SHUTDOWN (the AOF is flushed), then a new redis-server on the same files';
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    const out = fs.openSync(path.join(this.dir, 'redis.log'), 'a');
    this.child = track(spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
    ], { stdio: ['ignore', out, out] }));
    fs.closeSync(out);
    const { child } = this;
    await waitFor('redis-server', async () => {
      if (child.exitCode !== null) throw new Error('redis-server exited; see redis.log');
      try {
        return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'ping'])).trim() === 'PONG';
      } catch {
        return false;
      }
    });
  }

  async stop() {
    const { child } = this;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'shutdown']).catch(() => child.kill('SIGTERM'));
    await exited;
  }

  async records() {
    const n = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'dbsize']).catch(() => 'n/a');
    return `${n.trim()} keys`;
  }
}

/** A private PostgreSQL cluster (started by bench/chaos.sh), stopped and started with pg_ctl. */
export class PostgresStore {
  kind = 'postgres';

  constructor({ url, stopCommand, startCommand, asUser }) {
    Object.assign(this, { url, stopCommand, startCommand, asUser });
  }

  describe() {
    return 'a private PostgreSQL cluster (fsync on), its own port; restart = pg_ctl stop -m fast, then pg_ctl start';
  }

  #shell(command) {
    return this.asUser ? run('su', [this.asUser, '-c', command]) : run('sh', ['-c', command]);
  }

  async start() {
    const { port } = new URL(this.url);
    if (await tcpOpen(Number(port))) return; // already up (bench/chaos.sh starts it for the first run)
    await this.#shell(this.startCommand);
    await waitFor('PostgreSQL', () => tcpOpen(Number(port)));
  }

  async stop() { await this.#shell(this.stopCommand); }

  async records() {
    return run('psql', [this.url, '-tAc', 'select count(*) from tower_sessions.session']).then((n) => `${n.trim()} session rows`).catch(() => 'n/a');
  }
}

/**
 * The load balancer on APP_URL's port: what the provider's redirects (logins) and webhooks reach.
 * Round robin over the instances; a connection that is refused (an instance down) goes to the
 * next one, as a load balancer with health checks would do.
 */
export function startLoadBalancer(port, instancePorts) {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const first = next;
      next = (next + 1) % instancePorts.length;
      const attempt = (i) => {
        const upstream = http.request({
          host: '127.0.0.1', port: instancePorts[(first + i) % instancePorts.length], method: req.method, path: req.url, headers: req.headers,
        }, (up) => {
          res.writeHead(up.statusCode, up.rawHeaders);
          up.pipe(res);
        });
        upstream.on('error', (err) => {
          if (err.code === 'ECONNREFUSED' && i + 1 < instancePorts.length) attempt(i + 1);
          else if (!res.headersSent) {
            res.writeHead(502);
            res.end(`load balancer: ${err.code}`);
          } else res.destroy();
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  return new Promise((ok) => server.listen(port, '127.0.0.1', () => ok(server)));
}
