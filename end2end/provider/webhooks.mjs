// FusionAuth's webhooks as the stand-in sends them. An event goes to every webhook of the
// kickstart that enables its type in `eventsEnabled`, serves the tenant (`global` or `tenantIds`)
// and whose type the tenant's eventConfiguration enables too (all three, as FusionAuth requires):
// POST <url>, Content-Type application/json, body {"event": {...}}, and when the webhook is signed
// the header X-FusionAuth-Signature-JWT: an HS256 JWT (header kid = the key's kid) signed with the
// imported HMAC secret's UTF-8 bytes, payload {"request_body_sha256": standard padded base64 of
// the SHA-256 of the raw body}. Connect and read timeouts are the webhook's. Every event type is
// fire-and-forget (transactionType None): a failed delivery is logged and recorded, nothing else.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

/** How many deliveries GET /webhook-deliveries remembers (the newest). */
const MAX_DELIVERIES = 1000;

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The X-FusionAuth-Signature-JWT of `body` (a Buffer) for the HMAC `key` ({ kid, algorithm, secret }). */
export function signatureJwt(body, key) {
  const algorithm = key.algorithm ?? 'HS256';
  const header = { alg: algorithm, typ: 'JWT', kid: key.kid };
  const payload = { request_body_sha256: createHash('sha256').update(body).digest('base64') };
  const input = `${b64url(header)}.${b64url(payload)}`;
  const mac = createHmac(`sha${algorithm.slice(2)}`, Buffer.from(key.secret, 'utf8')).update(input).digest('base64url');
  return `${input}.${mac}`;
}

/** POSTs `body`; resolves with the status code, rejects on a network error or a timeout. */
function post(target, body, headers, { connectTimeout, readTimeout }) {
  return new Promise((resolve, reject) => {
    const url = new URL(target);
    const transport = url.protocol === 'https:' ? https : http;
    // agent: false, a new connection each time, so that the connect timeout measures a connect.
    const req = transport.request(url, { method: 'POST', agent: false, headers: { ...headers, 'Content-Length': body.length } });
    const fail = (message) => req.destroy(new Error(message));
    let timer = setTimeout(() => fail(`no connection within ${connectTimeout} ms`), connectTimeout);
    req.once('socket', (socket) => socket.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(`no response within ${readTimeout} ms`), readTimeout);
    }));
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => { clearTimeout(timer); resolve(res.statusCode); });
    });
    req.once('error', (err) => { clearTimeout(timer); reject(err); });
    req.end(body);
  });
}

/**
 * Whom an event is about, for the delivery log (the tests look a delivery up by it): the user's id
 * and email, and the application when the event names one (the one-token jwt.refresh-token.revoke,
 * the registration events).
 */
function subjectOf(event) {
  const subject = {};
  const userId = event.userId ?? event.user?.id;
  if (userId) subject.userId = userId;
  if (event.user?.email) subject.loginId = event.user.email;
  if (event.applicationId) subject.applicationId = event.applicationId;
  return subject;
}

export class Webhooks {
  #hooks;

  #tenantEvents;

  #tenantId;

  /**
   * What was sent, oldest first (the last MAX_DELIVERIES):
   * { type, eventId, userId?, loginId?, applicationId?, webhookId, url, status, error?, at }.
   */
  deliveries = [];

  constructor({ webhooks, tenantEvents, tenantId }) {
    this.#hooks = webhooks;
    this.#tenantEvents = tenantEvents;
    this.#tenantId = tenantId;
  }

  /** Where each webhook posts, and which event types reach it. */
  subscriptions() {
    return this.#hooks.map((h) => ({
      id: h.id, url: h.url, signed: Boolean(h.signingKey), events: Object.keys(h.eventsEnabled).filter((t) => this.subscribersOf(t).includes(h)),
    }));
  }

  /** The webhooks an event of `type` goes to. */
  subscribersOf(type) {
    if (this.#tenantEvents[type]?.enabled !== true) return [];
    return this.#hooks.filter((h) => h.eventsEnabled[type] === true && (h.global || h.tenantIds.includes(this.#tenantId)));
  }

  /** Sends `event` ({ event: {...} }) to its subscribers; resolves with the deliveries, never rejects. */
  async send(event) {
    const body = Buffer.from(JSON.stringify(event));
    return Promise.all(this.subscribersOf(event.event.type).map((hook) => this.#deliver(hook, body, event.event)));
  }

  async #deliver(hook, body, event) {
    const headers = { ...hook.headers, 'Content-Type': 'application/json' };
    if (hook.signingKey) headers['X-FusionAuth-Signature-JWT'] = signatureJwt(body, hook.signingKey);
    const delivery = { type: event.type, eventId: event.id, ...subjectOf(event), webhookId: hook.id, url: hook.url, at: new Date().toISOString() };
    try {
      delivery.status = await post(hook.url, body, headers, hook);
    } catch (err) {
      delivery.status = 0;
      delivery.error = err.message;
    }
    if (!(delivery.status >= 200 && delivery.status < 300)) {
      console.error(`stand-in provider: webhook ${event.type} to ${hook.url} failed: ${delivery.error ?? `HTTP ${delivery.status}`}`);
    }
    this.deliveries.push(delivery);
    if (this.deliveries.length > MAX_DELIVERIES) this.deliveries.splice(0, this.deliveries.length - MAX_DELIVERIES);
    return delivery;
  }
}
