// How the tooling starts Chromium: the system browser (CHROMIUM_PATH, default /usr/bin/chromium;
// never a Playwright download), headless, with what reaches the network in the background turned off.

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Options for Playwright's chromium.launch() (and the config's use.launchOptions). */
export function chromiumLaunchOptions(env = process.env) {
  return { executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...CHROMIUM_FLAGS] };
}
