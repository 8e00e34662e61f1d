// Types of suite.mjs, for the TypeScript of the Playwright configs.
export declare const serialSuite: {
  fullyParallel: boolean;
  workers: number;
  retries: number;
  forbidOnly: boolean;
  timeout: number;
  expect: { timeout: number };
};
export declare const webServerDefaults: {
  timeout: number;
  reuseExistingServer: boolean;
  stdout: 'pipe' | 'ignore';
  stderr: 'pipe';
  gracefulShutdown: { signal: 'SIGTERM'; timeout: number };
};
