// Parses wrk 4.x output (run with --latency). `node bench/wrk.mjs FILE` prints the parsed JSON.

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "850.00us" / "1.23ms" / "2.01s" → milliseconds. */
export function durationMs(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

export function parseWrk(text) {
  const latency = {};
  for (const m of text.matchAll(/^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m|h))\s*$/gm)) {
    latency[`p${m[1]}`] = durationMs(m[2]);
  }
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const requests = /(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read/.exec(text);
  const non2xx3xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  // Printed by bench/wrk-check.lua (load.sh): every response checked.
  const check = /^check: responses=(\d+) non_2xx=(\d+) missing_marker=(\d+)/m.exec(text);
  if (!rps) throw new Error('not a wrk output (no Requests/sec line)');
  return {
    rps: Number(rps[1]),
    requests: requests ? Number(requests[1]) : null,
    p50: latency.p50 ?? null,
    p75: latency.p75 ?? null,
    p90: latency.p90 ?? null,
    p99: latency.p99 ?? null,
    // wrk counts status >= 400 here (its "Non-2xx or 3xx" label notwithstanding).
    errorStatus: non2xx3xx ? Number(non2xx3xx[1]) : 0,
    socketErrors: socket
      ? { connect: Number(socket[1]), read: Number(socket[2]), write: Number(socket[3]), timeout: Number(socket[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    check: check
      ? { responses: Number(check[1]), non2xx: Number(check[2]), missingMarker: Number(check[3]) }
      : null,
  };
}

export const median = (values) => {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

if (process.argv[1]?.endsWith('wrk.mjs') && process.argv[2]) {
  const fs = await import('node:fs');
  console.log(JSON.stringify(parseWrk(fs.readFileSync(process.argv[2], 'utf8')), null, 2));
}
