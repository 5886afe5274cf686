import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A Verdaccio server on 127.0.0.1 with its own storage, proxying everything but `@moco-robust/*` to npmjs. */
export interface LocalRegistry {
  url: string;
  /** Environment for `npm`/`npx` children: this registry, a token for it, and an empty cache of their own. */
  env: NodeJS.ProcessEnv;
  stop: () => void;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

/**
 * Starts Verdaccio (`bin`: the path of its `bin/verdaccio`) in `dir`, registers a publishing user and returns the
 * npm environment that talks to it. `@moco-robust/*` is served only from what is published to it; third-party
 * packages come from registry.npmjs.org through the uplink, so nothing depends on this machine's npm cache.
 */
export async function startLocalRegistry(bin: string, dir: string): Promise<LocalRegistry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'verdaccio.yaml');
  writeFileSync(
    config,
    [
      `storage: ${JSON.stringify(join(dir, 'storage'))}`,
      'auth:',
      `  htpasswd: { file: ${JSON.stringify(join(dir, 'htpasswd'))}, max_users: 10 }`,
      'uplinks:',
      '  npmjs: { url: "https://registry.npmjs.org/", timeout: 120s, max_fails: 5 }',
      'packages:',
      "  '@moco-robust/*': { access: $all, publish: $authenticated }",
      "  '**': { access: $all, publish: $authenticated, proxy: npmjs }",
      'max_body_size: 200mb',
      'web: { enable: false }',
      'log: { type: stdout, format: pretty, level: error }',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const stop = () => {
    if (child.exitCode === null) child.kill();
  };
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}): ${output}`);
      const ping = await fetch(`${url}-/ping`).catch(() => undefined);
      if (ping?.ok) break;
      if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${url} within 60 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const user = await fetch(`${url}-/user/org.couchdb.user:tester`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tester', password: 'tester-password' }),
    });
    const { token } = (await user.json()) as { token?: string };
    if (!token) throw new Error(`verdaccio refused the test user (${user.status})`);
    const userconfig = join(dir, 'npmrc');
    writeFileSync(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    // the children's npm settings are only ours: none inherited from an `npm test` parent
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env))
      if (!/^npm_(config|package|lifecycle)_/i.test(key)) env[key] = value;
    Object.assign(env, {
      npm_config_registry: url,
      npm_config_userconfig: userconfig,
      npm_config_cache: join(dir, 'npm-cache'),
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
      npm_config_loglevel: 'error',
    });
    return { url, env, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
