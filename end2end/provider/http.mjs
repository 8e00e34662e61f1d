// HTTP plumbing shared by the provider and control ports: loopback listeners that can be closed
// and reopened, request bodies (text, form, JSON), and query parameters added to a URL.
import http from 'node:http';

/** Reads a request body as UTF-8 text (at most `limit` bytes, else an error with status 413). */
export async function readBody(req, limit = 64 * 1024) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('request body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads an application/x-www-form-urlencoded body. */
export async function readForm(req, limit) {
  return Object.fromEntries(new URLSearchParams(await readBody(req, limit)));
}

/** Reads a JSON object body; an empty body is {}; anything else that is not an object is an error with status 400. */
export async function readJson(req, limit) {
  const text = await readBody(req, limit);
  if (!text.trim()) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    throw Object.assign(new Error('the body is not JSON'), { status: 400 });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw Object.assign(new Error('the body must be a JSON object'), { status: 400 });
  }
  return value;
}

/** `url` with `params` set in its query (undefined and null values are left out). */
export function appendParams(url, params) {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.href;
}

export async function closeServers(servers) {
  await Promise.all(servers.map((s) => new Promise((ok) => {
    s.close(() => ok());
    s.closeAllConnections();
  })));
}

// Listen on the IPv4 and (when available) IPv6 loopback, so "localhost" works whichever it resolves to.
export async function listenLoopback(handler, port) {
  const servers = [];
  for (const host of ['127.0.0.1', '::1']) {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 5000;
    try {
      // eslint-disable-next-line no-await-in-loop
      await new Promise((ok, fail) => {
        server.once('error', fail);
        server.listen({ port, host, exclusive: true }, () => { server.off('error', fail); ok(); });
      });
      servers.push(server);
    } catch (err) {
      const ipv6Unavailable = host === '::1' && ['EADDRNOTAVAIL', 'EAFNOSUPPORT'].includes(err.code);
      if (!ipv6Unavailable) {
        await closeServers(servers);
        throw err;
      }
    }
  }
  return servers;
}

/**
 * The loopback listeners of one port, which can be closed and reopened (the control port's
 * /stop and /start) and whose request handler can be replaced (a rebuilt provider after a key
 * rotation) without closing them.
 */
export class LoopbackListener {
  #servers = [];

  constructor(port, handler) {
    this.port = port;
    this.handler = handler;
  }

  get listening() { return this.#servers.length > 0; }

  async open() {
    if (this.#servers.length === 0) {
      this.#servers = await listenLoopback((req, res) => this.handler(req, res), this.port);
    }
  }

  async close() {
    const servers = this.#servers;
    this.#servers = [];
    await closeServers(servers);
  }
}
