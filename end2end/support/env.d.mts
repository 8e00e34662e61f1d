// Types of env.mjs, for the TypeScript of the Playwright suite.
export declare const REPO_ROOT: string;
export declare const ENV_EXAMPLE_FILE: string;
export declare function parseEnvFile(file: string): Record<string, string>;
export declare function envExample(): Record<string, string>;
export declare function demoSetting(key: string): string;
export declare function setting(key: string, env?: NodeJS.ProcessEnv): string;
export declare function trimSlash(url: string): string;
export declare function demoUser(env?: NodeJS.ProcessEnv): { email: string; password: string };
export declare function suiteSettings(env?: NodeJS.ProcessEnv): {
  realFusionAuth: string | undefined;
  issuer: string;
  appUrl: string;
  clientId: string;
  clientSecret: string;
};
export declare function siteOf(url: string): string;
export interface Deployment {
  name: 'same-site' | 'cross-site';
  appUrl: string;
  issuer: string;
  controlUrl: string;
  otherAppUrl: string;
  sameSite: boolean;
}
export declare function deployments(env?: NodeJS.ProcessEnv): { sameSite: Deployment; crossSite: Deployment };
export declare function stepUpMaxAgeSecs(env?: NodeJS.ProcessEnv): number;
