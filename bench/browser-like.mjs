// What the benchmark clients share: a browser-like cookie jar and the provider's login form read
// from its HTML (bench/login-client.mjs, bench/chaos/web.mjs).

/** Cookies as a browser keeps them: per host name (not port), path-scoped, Max-Age/Expires honoured. */
export class CookieJar {
  constructor() {
    this.cookies = new Map(); // `${host}\t${path}\t${name}` → { host, path, name, value }
  }

  store(url, response) {
    const { hostname, pathname } = new URL(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path' && v.trim().startsWith('/')) path = v.trim();
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${hostname}\t${path}\t${name}`;
      if (expired) this.cookies.delete(id);
      else this.cookies.set(id, { host: hostname, path, name, value });
    }
  }

  header(url) {
    const { hostname, pathname } = new URL(url);
    const pairs = [];
    for (const c of this.cookies.values()) {
      if (c.host !== hostname) continue;
      if (!(pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))) continue;
      pairs.push(`${c.name}=${c.value}`);
    }
    return pairs.join('; ');
  }

  get(host, name) {
    for (const c of this.cookies.values()) if (c.host === host && c.name === name) return c.value;
    return undefined;
  }
}

/** Inputs and action of the first <form> in html (the provider's login form). */
export function parseForm(html, base) {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) throw new Error('no <form> on the provider page');
  const attr = (tag, name) => {
    const m = new RegExp(`\\b${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
    return m ? decodeEntities(m[2] ?? m[3] ?? m[4]) : undefined;
  };
  const action = new URL(attr(form[1], 'action') ?? base, base).href;
  const fields = {};
  for (const input of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = attr(input[0], 'name');
    if (name) fields[name] = attr(input[0], 'value') ?? '';
  }
  return { action, fields };
}

export function decodeEntities(s) {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
