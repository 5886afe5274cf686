import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifarSampleDir } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sample = cifarSampleDir();
/** The published packages `@moco-robust/cli` needs. */
const PACKAGES = ['core', 'attacks', 'data', 'models', 'moco', 'eval', 'cli'];

/**
 * What a user gets from npm: each package packed with `npm pack` (only its `files`), installed into
 * a fresh project from the tarballs — the other dependencies (tfjs) from the npm registry, as a user
 * gets them (`--prefer-offline`: the cache when it holds them, the registry otherwise, so the test
 * passes on a fresh machine with an empty cache) — and run with `npx moco-robust`.
 */
describe('npx moco-robust from packed tarballs in a fresh project', () => {
  let project = '';
  const npx = (args: string[]) =>
    spawnSync('npx', ['--no-install', 'moco-robust', ...args], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, MOCO_ROBUST_DATA: sample ?? '', TF_CPP_MIN_LOG_LEVEL: '3' },
      timeout: 300_000,
    });
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'mr-packed-'));
    const tarballs = join(project, 'tarballs');
    mkdirSync(tarballs);
    for (const name of PACKAGES)
      execFileSync('npm', ['pack', '--silent', '--pack-destination', tarballs], {
        cwd: join(repo, 'packages', name),
        stdio: 'ignore',
      });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'packed-user', private: true, type: 'module' }),
    );
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...files], {
      cwd: project,
      stdio: 'pipe',
      timeout: 300_000,
    });
  }, 600_000);
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('runs --help, backend and corrupt with nothing of the repository but the tarballs', () => {
    expect(existsSync(join(project, 'node_modules', '@moco-robust', 'cli', 'dist', 'bin.js'))).toBe(true);
    // only what `files` publishes
    expect(existsSync(join(project, 'node_modules', '@moco-robust', 'cli', 'src'))).toBe(false);
    const help = npx(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: moco-robust <command>/);
    const backend = npx(['backend', '--json']);
    expect(backend.status, backend.stderr).toBe(0);
    const selection = JSON.parse(backend.stdout);
    expect(['wasm', 'cpu']).toContain(selection.name); // no native build in the fresh project
    // wasm starts tfjs's multi-threaded build from the installed package too, on every core (up to 8)
    if (selection.name === 'wasm') expect(selection.threads).toBe(Math.min(availableParallelism(), 8));
    if (!sample) return;
    const corrupt = npx([
      'corrupt',
      '--images',
      '4',
      '--corruptions',
      'contrast',
      '--out',
      join(project, 'c'),
      '--json',
    ]);
    expect(corrupt.status, corrupt.stderr).toBe(0);
    expect(readdirSync(join(project, 'c')).sort()).toEqual(['contrast.npy', 'labels.npy']);
  });
});
