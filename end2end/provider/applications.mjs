// The applications of the tenant, one oidc-provider client each, with the settings the control
// port may change while the stand-in runs (POST /settings) and restore from the kickstart
// (POST /reset). Everything that reads a setting asks here at the moment it needs it, so a change
// applies to the next request without rebuilding the provider.

/** The settings POST /settings may change: name → [application field, allowed values]. */
const CHANGEABLE = {
  requireRegistration: ['requireRegistration', [true, false]],
  selfServiceRegistration: ['registrationEnabled', [true, false]],
  refreshTokenUsagePolicy: ['refreshTokenUsagePolicy', ['Reusable', 'OneTimeUse']],
  scopeHandlingPolicy: ['scopeHandlingPolicy', ['Strict', 'Compatibility']],
};

const badRequest = (message) => Object.assign(new Error(message), { status: 400 });

export class Applications {
  #kickstart;

  #byId = new Map();

  constructor(applications) {
    this.#kickstart = applications;
    this.reset();
  }

  /** Back to the kickstart's settings. */
  reset() {
    this.#byId = new Map(this.#kickstart.map((a) => [a.clientId, structuredClone(a)]));
  }

  all() { return [...this.#byId.values()]; }

  byId(clientId) { return this.#byId.get(clientId); }

  /** The roles a registration gets when none are given (application.roles[x].isDefault). */
  defaultRoles(clientId) {
    return (this.byId(clientId)?.roles ?? []).filter((r) => r.isDefault).map((r) => r.name);
  }

  /** The logoutURL of every application of the tenant, each once (FusionAuth's `allLogoutURLs`, a set). */
  allLogoutUrls() {
    return [...new Set(this.all().map((a) => a.logoutUrl).filter(Boolean))];
  }

  /** What GET/POST /settings show of an application. */
  settingsOf(app) {
    const settings = { clientId: app.clientId, name: app.name };
    for (const [name, [field]] of Object.entries(CHANGEABLE)) settings[name] = app[field];
    return { ...settings, logoutURL: app.logoutUrl, redirectURLs: app.redirectUris, roles: app.roles.map((r) => r.name) };
  }

  /** Applies `changes` ({ clientId, requireRegistration, … }) and answers the new settings. */
  change({ clientId, ...changes }) {
    const app = this.byId(clientId);
    if (!app) throw Object.assign(new Error(`no application ${clientId}`), { status: 404 });
    for (const [name, value] of Object.entries(changes)) {
      const [field, allowed] = CHANGEABLE[name] ?? [];
      if (!field) throw badRequest(`${name} cannot be changed (only ${Object.keys(CHANGEABLE).join(', ')})`);
      if (!allowed.includes(value)) throw badRequest(`${name} must be one of ${allowed.join(', ')}`);
    }
    for (const [name, value] of Object.entries(changes)) app[CHANGEABLE[name][0]] = value;
    return this.settingsOf(app);
  }
}
