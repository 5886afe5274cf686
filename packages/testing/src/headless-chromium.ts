import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of Debian's Chromium, or undefined (throws in CI, where browser tests must run). */
export function chromiumPath(): string | undefined {
  const path = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (spawnSync(path, ['--version'], { stdio: 'ignore' }).status === 0) return path;
  if (process.env.CI === 'true' || process.env.CI === '1')
    throw new Error(`Chromium is required in CI for browser tests and was not found at ${path}`);
  return undefined;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Runs headless Chromium with `args` and a fresh profile until `done` settles (or, without `done`, until
 * it exits). The browser's whole process group is killed and waited for before the profile is
 * removed (removing it while a helper process still writes fails with ENOTEMPTY).
 */
async function runChromium<T>(args: string[], done: Promise<T> | undefined, timeoutMs: number): Promise<T | undefined> {
  const chromium = chromiumPath();
  if (!chromium) throw new Error('Chromium is not installed (apt-get install chromium)');
  const profile = mkdtempSync(join(tmpdir(), 'mr-chromium-'));
  // its own process group
  const child = spawn(chromium, [...FLAGS, `--user-data-dir=${profile}`, ...args], { stdio: 'ignore', detached: true });
  const exited = once(child, 'exit');
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`headless Chromium did not finish ${args.at(-1)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    return await Promise.race([done ?? exited.then(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
    try {
      process.kill(-child.pid!, 'SIGKILL'); // the browser and its renderer/helper processes
    } catch {
      // already gone
    }
    if (child.exitCode === null && child.signalCode === null) await exited;
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/**
 * Opens `url` in headless Chromium (no sandbox, no GPU, no background networking, a fresh profile) and resolves with
 * `done`; the browser is always closed.
 */
export async function withHeadlessChromium<T>(url: string, done: Promise<T>, timeoutMs = 120_000): Promise<T> {
  return (await runChromium([url], done, timeoutMs)) as T;
}

/** Takes a `width`×`height` screenshot of `url` into the PNG file `path` with headless Chromium. */
export async function writeScreenshot(
  url: string,
  path: string,
  options: { width?: number; height?: number; timeoutMs?: number } = {},
): Promise<void> {
  const { width = 1280, height = 2000, timeoutMs = 120_000 } = options;
  await runChromium(
    [
      `--screenshot=${path}`,
      `--window-size=${width},${height}`,
      '--hide-scrollbars',
      '--virtual-time-budget=5000',
      url,
    ],
    undefined,
    timeoutMs,
  );
}
