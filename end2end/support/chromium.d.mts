// Types of chromium.mjs, for the TypeScript of the Playwright suite.
export declare const CHROMIUM_FLAGS: readonly string[];
export declare function chromiumLaunchOptions(env?: NodeJS.ProcessEnv): { executablePath: string; args: string[] };
