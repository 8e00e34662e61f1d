// What the reliability suite (bench/chaos.sh) needs from the stand-in beyond FusionAuth's own
// behaviour: a slow token endpoint, and a ledger of every refresh-token exchange that tells when
// one refresh token was spent more than once. Test-only; reached through the control port
// (POST /token-delay, GET /refresh-token-exchanges).

/**
 * A delay in front of `POST /oauth2/token`. A delayed request is held, then processed as usual —
 * also when its client gave up meanwhile, as a slow FusionAuth does (the exchange happens, its
 * answer goes nowhere) — unless `dropAbandoned` is set: then a request whose client closed the
 * connection during the delay is dropped unprocessed (a queue in front of the provider that
 * notices the client left).
 */
export class TokenDelay {
  ms = 0;

  dropAbandoned = false;

  /** Held now, and dropped because their client had left. */
  held = 0;

  dropped = 0;

  set({ ms, dropAbandoned = false }) {
    if (!Number.isInteger(ms) || ms < 0 || ms > 600_000) {
      throw Object.assign(new Error('ms must be an integer from 0 to 600000'), { status: 400 });
    }
    if (typeof dropAbandoned !== 'boolean') {
      throw Object.assign(new Error('dropAbandoned must be true or false'), { status: 400 });
    }
    this.ms = ms;
    this.dropAbandoned = dropAbandoned;
    return this.state();
  }

  state() {
    return { ms: this.ms, dropAbandoned: this.dropAbandoned, held: this.held, dropped: this.dropped };
  }

  /**
   * The request handler of the provider port with the delay in front of `handler()` (called when
   * the request is let through, so a provider rebuilt meanwhile serves it). Token requests are
   * stamped with their arrival time (`req.arrivedAt`, ms) for the exchange ledger.
   */
  wrap(handler) {
    return (req, res) => {
      const isToken = req.method === 'POST' && req.url.split('?')[0] === '/oauth2/token';
      if (!isToken) return handler()(req, res);
      req.arrivedAt = Date.now();
      const { ms, dropAbandoned } = this;
      if (ms === 0) return handler()(req, res);
      // The body is read now, while the client is there: a request it abandons can still be made
      // (oidc-provider takes an already read body from `req.body`).
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.once('end', () => {
        req.body = Buffer.concat(chunks);
        this.held += 1;
        setTimeout(() => {
          this.held -= 1;
          if (dropAbandoned && (res.destroyed || req.socket.destroyed)) {
            this.dropped += 1;
            res.destroy();
            return;
          }
          handler()(req, res);
        }, ms);
      });
      return undefined;
    };
  }
}

/**
 * Every refresh-token grant the token endpoint served, by the refresh token value it presented:
 * when it arrived, when it was answered, the status, whether it rotated the token (one-time use)
 * and the application's usage policy at that moment. A value presented again after an exchange
 * that rotated it — under one-time use every value may be exchanged once — is a refresh token
 * spent twice, whatever the second exchange answered.
 */
export class RefreshExchangeLedger {
  #byValue = new Map(); // value → { tokenId, userId, clientId, exchanges: [...] }

  total = 0;

  /** Records one exchange of `value`. */
  record({ value, tokenId, userId, clientId, arrivedAt, startedAt, endedAt, status, rotated, policy }) {
    if (typeof value !== 'string' || !value) return;
    this.total += 1;
    let entry = this.#byValue.get(value);
    if (!entry) {
      entry = { tokenId, userId, clientId, exchanges: [] };
      this.#byValue.set(value, entry);
    }
    entry.tokenId ??= tokenId;
    entry.userId ??= userId;
    entry.exchanges.push({ arrivedAt, startedAt, endedAt, status, rotated, policy });
  }

  /**
   * The report: exchanges, distinct values, the values spent twice (presented again after an
   * exchange that rotated them; `loginIdOf(userId)` names the user) and the values exchanged by
   * two requests in flight at the same time (arrival of one before the answer to the other);
   * `arrivals` lists every exchange as [arrival (ms), status], oldest first.
   */
  report(loginIdOf = () => undefined) {
    const spentTwice = [];
    let overlapping = 0;
    for (const entry of this.#byValue.values()) {
      const exchanges = [...entry.exchanges].sort((a, b) => a.arrivedAt - b.arrivedAt);
      if (exchanges.length > 1 && exchanges.some((e) => e.rotated)) {
        spentTwice.push({
          tokenId: entry.tokenId, userId: entry.userId, loginId: loginIdOf(entry.userId), clientId: entry.clientId, exchanges,
        });
      }
      for (let i = 1; i < exchanges.length; i += 1) {
        if (exchanges[i].arrivedAt < exchanges[i - 1].endedAt) overlapping += 1;
      }
    }
    const arrivals = [...this.#byValue.values()].flatMap((e) => e.exchanges.map((x) => [x.arrivedAt, x.status]))
      .sort((a, b) => a[0] - b[0]);
    return {
      exchanges: this.total, refreshTokens: this.#byValue.size, spentTwice, overlapping, arrivals,
    };
  }
}
