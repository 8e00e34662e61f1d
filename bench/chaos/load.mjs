// The signed-in clients of a chaos run and what they see. Each client is its own user with its
// own session; it asks for the home page every 0.5–1 s, from one instance or the other (now and
// then from both at once, as two tabs would), always with the same session cookie, as behind a
// load balancer without sticky sessions. Some clients log out during the run and keep sending
// their old cookie afterwards. Every answer is classified and kept (send and answer time,
// instance, what it was), so that the run can be cut into phases afterwards.
import http from 'node:http';

import {
  SESSION_COOKIE, bareRequest, classifyPage, sessionCookieSet,
} from './web.mjs';
import { sleep } from './processes.mjs';

/** Answers that are normal for a client in `role`; anything else delays "answers normally again". */
export function isNormal(role, kind) {
  if (role === 'in') return kind === 'profile';
  if (role === 'out') return kind === 'guest' || kind === 'guest-notice';
  return true; // lost clients and the request sent alongside a logout: whatever they get is accounted elsewhere
}

const CONNECTION_ERRORS_RETRIED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']);

export class Load {
  /**
   * instances: [{ name, port }], appOrigin (the Origin a browser sends: APP_URL's), gapMs
   * [min, max] between a client's requests, bothEvery (every how many ticks a client asks both
   * instances at once).
   */
  constructor({ instances, appOrigin, gapMs = [500, 1000], bothEvery = 5 }) {
    this.instances = instances;
    this.appOrigin = appOrigin;
    this.gapMs = gapMs;
    this.bothEvery = bothEvery;
    this.agents = instances.map(() => new http.Agent({ keepAlive: true, maxSockets: 256 }));
    this.clients = [];
    this.answers = []; // { t0, t1, inst, kind, status, role, client }
    this.events = []; // lost, undone, came-back, wrong-user, logout, logout-failed
    this.running = false;
    this.loops = [];
  }

  addClient({ email, subject, cookie }) {
    this.clients.push({
      id: this.clients.length, email, subject, cookie, role: 'in', oldCookie: null, logoutAt: null, tick: 0,
      lostAt: null, undoneAt: null, loggedOutAt: null,
    });
  }

  event(type, client, fields) {
    this.events.push({ type, t: Date.now(), client: client.id, email: client.email, subject: client.subject, ...fields });
  }

  /** One GET / to instance `inst`; a refused or reset connection goes to the other instance (a load balancer's retry). */
  async get(client, inst, role, cookie, retried = false) {
    const t0 = Date.now();
    let res;
    try {
      res = await bareRequest(this.agents[inst], this.instances[inst].port, {
        headers: { accept: 'text/html', ...(cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {}) },
      });
    } catch (err) {
      const code = err.code ?? err.message;
      this.answers.push({ t0, t1: Date.now(), inst, kind: `conn-${code}`, status: 0, role, client: client.id });
      if (CONNECTION_ERRORS_RETRIED.has(code) && !retried) return this.get(client, 1 - inst, role, cookie, true);
      return undefined;
    }
    const kind = classifyPage(res, client.email);
    this.answers.push({ t0, t1: Date.now(), inst, kind, status: res.status, role, client: client.id });
    this.observe(client, role, kind, inst, res);
    return kind;
  }

  /** What an answer means for the client: a lost session, a logout undone, a cookie to keep. */
  observe(client, role, kind, inst, res) {
    const instance = this.instances[inst].name;
    if (role === 'in' && client.role === 'in') {
      const set = sessionCookieSet(res.setCookie);
      if (set !== undefined) client.cookie = set;
      if (kind === 'guest' || kind === 'guest-notice') {
        client.role = 'lost';
        client.lostAt = Date.now();
        this.event('lost', client, { instance, kind });
      }
    }
    if (kind === 'wrong-user') this.event('wrong-user', client, { instance, role });
    if (role === 'out' && kind.startsWith('profile')) {
      if (client.undoneAt === null) client.undoneAt = Date.now();
      this.event('undone', client, { instance, sinceLogoutMs: Date.now() - client.loggedOutAt });
    }
    if (role === 'lost' && kind.startsWith('profile')) this.event('came-back', client, { instance });
  }

  /**
   * Logout as the Logout button's no-JS form post does it (POST /api/logout with the app's Origin),
   * on one instance while the other one serves a page to the same session; then the home page.
   */
  async logout(client) {
    const inst = Math.random() < 0.5 ? 0 : 1;
    const old = client.cookie;
    const post = async (i, retried = false) => {
      const t0 = Date.now();
      try {
        const res = await bareRequest(this.agents[i], this.instances[i].port, {
          method: 'POST',
          path: '/api/logout',
          headers: {
            accept: 'text/html', origin: this.appOrigin, 'content-type': 'application/x-www-form-urlencoded', cookie: `${SESSION_COOKIE}=${old}`,
          },
          body: '',
        });
        this.answers.push({ t0, t1: Date.now(), inst: i, kind: `logout-${res.status}`, status: res.status, role: 'logout', client: client.id });
        return { i, res };
      } catch (err) {
        const code = err.code ?? err.message;
        this.answers.push({ t0, t1: Date.now(), inst: i, kind: `conn-${code}`, status: 0, role: 'logout', client: client.id });
        if (code === 'ECONNREFUSED' && !retried) return post(1 - i, true);
        return { i, error: code };
      }
    };
    const [, done] = await Promise.all([this.get(client, 1 - inst, 'alongside-logout', old), post(inst)]);
    const { res } = done;
    if (!res || res.status < 300 || res.status >= 400) {
      // not logged out: the user would click again
      this.event('logout-failed', client, { instance: this.instances[done.i].name, status: res?.status ?? done.error });
      client.logoutAt = Date.now() + 2000;
      return;
    }
    client.role = 'out';
    client.oldCookie = old;
    client.loggedOutAt = Date.now();
    const set = sessionCookieSet(res.setCookie);
    client.cookie = set === undefined ? old : set;
    // the state FusionAuth hands back to /logout when the app could not record the sign-out (flows/logout.rs)
    const unrecorded = /[?&]state=local-signout-unrecorded\b/.test(res.location ?? '');
    this.event('logout', client, {
      instance: this.instances[done.i].name, status: res.status, cookieRemoved: set === null, unrecorded,
    });
    // the browser then shows the home page, with whatever cookie it has left
    await this.get(client, done.i, 'out', client.cookie);
  }

  async loop(client) {
    while (this.running) {
      const [min, max] = this.gapMs;
      await sleep(min + Math.random() * (max - min));
      if (!this.running) break;
      client.tick += 1;
      const alternate = (client.tick + client.id) % 2;
      if (client.role === 'in') {
        if (client.logoutAt !== null && Date.now() >= client.logoutAt) {
          await this.logout(client);
        } else if (client.tick % this.bothEvery === 0) {
          await Promise.all([this.get(client, 0, 'in', client.cookie), this.get(client, 1, 'in', client.cookie)]);
        } else {
          await this.get(client, alternate, 'in', client.cookie);
        }
      } else if (client.role === 'out') {
        await this.get(client, alternate, 'out', client.oldCookie);
      } else {
        await this.get(client, alternate, 'lost', client.cookie);
      }
    }
  }

  start() {
    this.running = true;
    this.loops = this.clients.map((c) => this.loop(c));
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** `share` of the clients still signed in and without a planned logout log out at random times in [from, to]. */
  planLogouts(share, from, to) {
    for (const c of this.clients) {
      if (c.role === 'in' && c.logoutAt === null && Math.random() < share) c.logoutAt = from + Math.random() * (to - from);
    }
  }

  /** `n` clients still signed in log out now (at their next tick). */
  logoutNow(n) {
    const candidates = this.clients.filter((c) => c.role === 'in' && (c.logoutAt === null || c.logoutAt > Date.now() + 1000));
    for (let k = 0; k < n && candidates.length; k += 1) {
      const [c] = candidates.splice(Math.floor(Math.random() * candidates.length), 1);
      c.logoutAt = Date.now();
    }
  }

  /** After the load: every client once more on both instances (answers with role `final-in` / `final-out`). */
  async finalCheck() {
    const results = { in: { checked: 0, normal: 0, other: {} }, out: { checked: 0, normal: 0, other: {} }, lost: this.clients.filter((c) => c.role === 'lost').length };
    const check = async (c, inst) => {
      const role = c.role === 'in' ? 'in' : 'out';
      const cookie = role === 'in' ? c.cookie : c.oldCookie;
      let kind;
      try {
        const res = await bareRequest(this.agents[inst], this.instances[inst].port, {
          headers: { accept: 'text/html', ...(cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {}) },
        });
        kind = classifyPage(res, c.email);
      } catch (err) {
        kind = `conn-${err.code ?? err.message}`;
      }
      const r = results[role];
      r.checked += 1;
      if (isNormal(role, kind)) r.normal += 1;
      else r.other[kind] = (r.other[kind] ?? 0) + 1;
      if (role === 'out' && kind.startsWith('profile')) this.event('undone', c, { instance: this.instances[inst].name, final: true });
    };
    const todo = this.clients.filter((c) => c.role !== 'lost').flatMap((c) => [[c, 0], [c, 1]]);
    for (let i = 0; i < todo.length; i += 32) await Promise.all(todo.slice(i, i + 32).map(([c, inst]) => check(c, inst)));
    return results;
  }

  close() {
    for (const a of this.agents) a.destroy();
  }
}
