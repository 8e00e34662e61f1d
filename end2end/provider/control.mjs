// The control port the tests use to change the running stand-in: GET /health, POST /rotate-key,
// POST /stop and POST /start (loopback only, JSON answers). See README.md, "Control API".

/** The request handler of the control port over the stand-in's { state, rotate, stop, start }. */
export function controlHandler({ state, rotate, stop, start }) {
  return async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    try {
      const route = `${req.method} ${new URL(req.url, 'http://x').pathname}`;
      switch (route) {
        case 'GET /health': return reply(200, { ok: true, ...state() });
        case 'POST /rotate-key': return reply(200, { ok: true, ...(await rotate()) });
        case 'POST /stop': await stop(); return reply(200, { ok: true, ...state() });
        case 'POST /start': await start(); return reply(200, { ok: true, ...state() });
        default: return reply(404, { ok: false, error: `no route ${route}` });
      }
    } catch (err) {
      return reply(500, { ok: false, error: String(err.message ?? err) });
    }
  };
}
