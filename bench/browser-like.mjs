// What the benchmark clients share: a browser's HTTP done by hand (a cookie jar, redirects
// followed step by step) and the provider's forms read from their HTML (bench/login-client.mjs,
// bench/chaos/web.mjs).

const MAX_HOPS = 20;

export const isRedirect = (status) => status >= 300 && status < 400;

/** Where a redirect points, resolved against the URL it came from. */
export function location(res, base) {
  const loc = res.headers.get('location');
  if (!loc) throw new Error(`${res.status} from ${base} without Location`);
  return new URL(loc, base).href;
}

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

/**
 * A browser, by hand: its own cookie jar; redirects are not followed (each step is checked); and
 * requests for the app's origin go to `connect` instead (the app listens on 127.0.0.1 only, where
 * `localhost` may resolve to ::1 first, or the suite's load balancer stands in front of it).
 */
export class Browser {
  constructor(appOrigin, connect) {
    this.jar = new CookieJar();
    this.appOrigin = appOrigin;
    this.connect = connect;
  }

  async request(url, { method = 'GET', headers = {}, body } = {}) {
    const cookie = this.jar.header(url);
    const res = await fetch(this.connectUrl(url), {
      method,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...headers },
      body,
    });
    this.jar.store(url, res);
    return res;
  }

  connectUrl(url) {
    const app = url.startsWith(`${this.appOrigin}/`) || url === this.appOrigin;
    return app ? this.connect + url.slice(this.appOrigin.length) : url;
  }

  /** Follows redirects from `url` to the page they end at (`what`, for errors): { url, html }. */
  async followToPage(url, what, headers = {}) {
    for (let hop = 0; hop <= MAX_HOPS; hop++) {
      const res = await this.request(url, { headers });
      if (isRedirect(res.status)) {
        url = location(res, url);
        continue;
      }
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
      return { url, html: await res.text() };
    }
    throw new Error(`too many redirects before ${what}`);
  }

  /** Follows redirects from `url` until one points under `prefix`: that URL (not requested). */
  async followUntil(url, prefix) {
    for (let hop = 0; !url.startsWith(prefix); hop++) {
      if (hop > MAX_HOPS) throw new Error(`too many redirects before ${prefix}`);
      const res = await this.request(url);
      if (!isRedirect(res.status)) throw new Error(`${url} answered ${res.status} instead of redirecting to ${prefix}`);
      url = location(res, url);
    }
    return url;
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
