// Where oidc-provider keeps sessions, grants, codes and tokens: one in-memory store per process,
// shared by every Provider instance (a new one is built when the signing key rotates, so sessions,
// grants and refresh tokens survive a rotation). Also how the rest of the stand-in finds a stored
// session or refresh token without a request (an administrator ending a user's sessions).

export const epoch = () => Math.floor(Date.now() / 1000);

/** The store key of oidc-provider's `model` (Session, RefreshToken, …) with id `id`. */
export const modelKey = (model, id) => `${model}:${id}`;

/** A map whose entries may expire (ttlSecs); expired entries read as absent. */
export class MemoryStore {
  #map = new Map();

  get(key) {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.exp && entry.exp <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key, value, ttlSecs) {
    this.#map.set(key, { value, exp: ttlSecs ? Date.now() + ttlSecs * 1000 : 0 });
  }

  delete(key) { this.#map.delete(key); }

  /** [id, value] of the live entries of `model`. */
  * entriesOf(model) {
    const prefix = modelKey(model, '');
    for (const key of [...this.#map.keys()]) {
      const value = key.startsWith(prefix) ? this.get(key) : undefined;
      if (value !== undefined) yield [key.slice(prefix.length), value];
    }
  }

  sweep() {
    const t = Date.now();
    for (const [key, entry] of this.#map) if (entry.exp && entry.exp <= t) this.#map.delete(key);
  }
}

/** The oidc-provider adapter class (one instance per model) over `store`. */
export function memoryAdapter(store) {
  return class MemoryAdapter {
    constructor(model) { this.model = model; }

    key(id) { return modelKey(this.model, id); }

    async upsert(id, payload, expiresIn) {
      const key = this.key(id);
      if (this.model === 'Session') store.set(`sessionUid:${payload.uid}`, id, expiresIn);
      if (payload.grantId && this.model !== 'Grant') {
        const grantKey = `grant:${payload.grantId}`;
        store.set(grantKey, [...(store.get(grantKey) ?? []), key]);
      }
      if (payload.userCode) store.set(`userCode:${payload.userCode}`, id, expiresIn);
      store.set(key, payload, expiresIn);
    }

    async find(id) { return store.get(this.key(id)); }

    async findByUid(uid) {
      const id = store.get(`sessionUid:${uid}`);
      return id ? this.find(id) : undefined;
    }

    async findByUserCode(userCode) {
      const id = store.get(`userCode:${userCode}`);
      return id ? this.find(id) : undefined;
    }

    /**
     * oidc-provider consumes a one-time-use refresh token when it rotates it and, when the old value
     * comes back, revokes the whole grant. FusionAuth only refuses the old value (tenant
     * refreshTokenRevocationPolicy.onOneTimeTokenReuse defaults to false), so a rotated refresh
     * token is deleted here: its reuse is "not found", and the new one stays valid.
     */
    async consume(id) {
      if (this.model === 'RefreshToken') {
        store.delete(this.key(id));
        return;
      }
      const payload = store.get(this.key(id));
      if (payload) payload.consumed = epoch();
    }

    async destroy(id) { store.delete(this.key(id)); }

    async revokeByGrantId(grantId) {
      const grantKey = `grant:${grantId}`;
      for (const key of store.get(grantKey) ?? []) store.delete(key);
      store.delete(grantKey);
    }
  };
}
