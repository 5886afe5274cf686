import { execFile as execFileCallback } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cifarSampleDir, repoRootDir } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRegistry, startLocalRegistry } from './local-registry';
import { readmeBlocks } from './readme-blocks';

const execFile = promisify(execFileCallback);
/** The tiny demo on wasm takes minutes on a loaded 2-core machine: the limits leave room for it. */
const repo = repoRootDir();
const sample = cifarSampleDir();
const version: string = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8')).version;
/** Every published package: what `changeset publish` would publish. */
const PUBLISHED = readdirSync(join(repo, 'packages')).filter((name) => {
  const file = join(repo, 'packages', name, 'package.json');
  return existsSync(file) && !JSON.parse(readFileSync(file, 'utf8')).private;
});
const tsc = createRequire(join(repo, 'package.json')).resolve('typescript/bin/tsc');
const verdaccio = join(
  createRequire(join(repo, 'package.json')).resolve('verdaccio/package.json'),
  '..',
  'bin',
  'verdaccio',
);

/**
 * How users meet the project: the packed tarballs (exactly what `npm publish` uploads) published to a Verdaccio
 * registry on 127.0.0.1, whose uplink serves tfjs and the rest from registry.npmjs.org, with an empty npm cache of
 * its own — so the test passes on a fresh machine and fails when a package is missing from what is published.
 */
// the two users run side by side: installs wait on the network while the demo computes
describe.concurrent('the packages as published, from a local registry', () => {
  let work = '';
  let registry: LocalRegistry;
  /** Runs a command to its end (never throws): its exit status and output. */
  const run = (cwd: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    execFile(command, args, {
      cwd,
      env: { ...registry.env, TF_CPP_MIN_LOG_LEVEL: '3', ...env },
      timeout: 900_000,
      maxBuffer: 64 << 20,
    }).then(
      ({ stdout, stderr }) => ({ status: 0 as number | null, stdout, stderr }),
      (error: { code?: number | string; stdout?: string; stderr?: string; message: string }) => ({
        status: typeof error.code === 'number' ? error.code : null,
        stdout: error.stdout ?? '',
        stderr: `${error.stderr ?? ''}\n${error.message}`,
      }),
    );
  type Result = Awaited<ReturnType<typeof run>>;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mr-registry-'));
    registry = await startLocalRegistry(verdaccio, join(work, 'registry'));
    const tarballs = join(work, 'tarballs');
    mkdirSync(tarballs);
    const workspaces = PUBLISHED.flatMap((name) => ['-w', `packages/${name}`]);
    const packed = await execFile('npm', ['pack', '--json', '--pack-destination', tarballs, ...workspaces], {
      cwd: repo,
      env: registry.env,
      maxBuffer: 64 << 20,
    });
    const manifests = JSON.parse(packed.stdout) as { name: string; filename: string; files: { path: string }[] }[];
    for (const manifest of manifests) {
      const files = manifest.files.map((f) => f.path);
      // what every tarball must carry, and nothing of the sources
      for (const needed of ['LICENSE', 'NOTICE', 'README.md', 'package.json', 'dist/index.js', 'dist/index.cjs'])
        expect(files, `${manifest.name} lacks ${needed}`).toContain(needed);
      expect(
        files.filter((f) => f.startsWith('src/')),
        manifest.name,
      ).toEqual([]);
    }
    // `moco-robust backend build` compiles the oneDNN convolutions from the installed core's source
    expect(manifests.find((m) => m.name === '@moco-robust/core')!.files.map((f) => f.path)).toContain(
      'native/onednn-convolution.cc',
    );
    await Promise.all(
      manifests.map((manifest) =>
        execFile('npm', ['publish', join(tarballs, manifest.filename)], { cwd: work, env: registry.env }),
      ),
    );
  }, 600_000);
  afterAll(() => {
    registry?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('npx @moco-robust/cli@<version>: --help, backend, corrupt and the tiny demo in an empty folder', async () => {
    const folder = join(work, 'npx-user');
    mkdirSync(folder);
    const npx = (args: string[]) =>
      run(folder, 'npx', ['--yes', `@moco-robust/cli@${version}`, ...args], { MOCO_ROBUST_DATA: sample ?? '' });
    const help = await npx(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/Usage: moco-robust <command>/);
    const backend = await npx(['backend', '--json']);
    expect(backend.status, backend.stderr).toBe(0);
    const selection = JSON.parse(backend.stdout);
    expect(['wasm', 'cpu']).toContain(selection.name); // nothing native in a registry install
    // wasm starts tfjs's multi-threaded build from the installed package, on every core (up to 8)
    if (selection.name === 'wasm') expect(selection.threads).toBe(Math.min(availableParallelism(), 8));
    if (!sample) return;
    const corrupt = await npx([
      'corrupt',
      '--images',
      '4',
      '--corruptions',
      'contrast',
      '--out',
      join(folder, 'c'),
      '--json',
    ]);
    expect(corrupt.status, corrupt.stderr).toBe(0);
    expect(readdirSync(join(folder, 'c')).sort()).toEqual(['contrast.npy', 'labels.npy']);
    const out = join(folder, 'demo');
    const demo = await npx(['demo', '--preset', 'tiny', '--out', out]);
    expect(demo.status, demo.stderr).toBe(0);
    for (const file of ['index.html', 'report.md', 'finetune/model/model.json'])
      expect(existsSync(join(out, file)), file).toBe(true);
  }, 1_200_000);

  it("a fresh project runs the attacks README's install line and example: ESM, CommonJS, TypeScript", async () => {
    const readme = readmeBlocks(join(repo, 'packages/attacks/README.md'));
    const project = join(work, 'library-user');
    mkdirSync(project);
    // `npm init -y`: a CommonJS package, as most projects still are
    expect((await run(project, 'npm', ['init', '-y'])).status).toBe(0);
    const install = readme.get('install')?.trim().split(/\s+/) ?? [];
    expect(install.slice(0, 2)).toEqual(['npm', 'install']);
    // the README's line, plus what the TypeScript checks below need (our Node-only entry and Node's types)
    const installed = await run(project, 'npm', [
      ...install.slice(1),
      `@moco-robust/data@${version}`,
      '@types/node@20',
    ]);
    expect(installed.status, installed.stderr).toBe(0);

    const expectAttack = (label: string, result: Result) => {
      expect(result.status, `${label}: ${result.stderr}`).toBe(0);
      const distance = Number(/max \|x_adv - x\| = ([\d.]+)/.exec(result.stdout)?.[1]);
      expect(distance, `${label}: ${result.stdout}`).toBeGreaterThan(0);
      expect(distance).toBeLessThanOrEqual(8 / 255 + 1e-4);
    };
    writeFileSync(join(project, 'example.mjs'), readme.get('esm') ?? '');
    expectAttack('ESM', await run(project, 'node', ['example.mjs']));
    writeFileSync(join(project, 'example.cjs'), readme.get('cjs') ?? '');
    expectAttack('CommonJS', await run(project, 'node', ['example.cjs']));

    // TypeScript, strict, skipLibCheck false: example.ts compiles to CommonJS (the package has no "type"),
    // example.mts to ESM; node-only.ts reads the Node-only entry of data the way a bundler-resolved project must.
    const ts = readme.get('ts') ?? '';
    writeFileSync(join(project, 'example.ts'), ts);
    writeFileSync(join(project, 'example.mts'), ts);
    writeFileSync(
      join(project, 'node-only.ts'),
      "import { loadCifar10 } from '@moco-robust/data/node';\nexport const load: typeof loadCifar10 = loadCifar10;\n",
    );
    const compilerOptions = { strict: true, skipLibCheck: false, target: 'es2022', types: ['node'] };
    const tsconfig = (name: string, options: object, files: string[]) =>
      writeFileSync(
        join(project, name),
        JSON.stringify({ compilerOptions: { ...compilerOptions, ...options }, files }),
      );
    tsconfig('tsconfig.nodenext.json', { module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' }, [
      'example.ts',
      'example.mts',
      'node-only.ts',
    ]);
    tsconfig('tsconfig.bundler.json', { module: 'esnext', moduleResolution: 'bundler', noEmit: true }, [
      'example.ts',
      'node-only.ts',
    ]);
    for (const config of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
      const compiled = await run(project, process.execPath, [tsc, '-p', config, '--pretty', 'false']);
      // tfjs's own declarations may have errors with skipLibCheck false; ours and the examples may not
      const ours = compiled.stdout
        .split('\n')
        .filter((line) => / error TS/.test(line) && !line.startsWith('node_modules/@tensorflow/'));
      expect(ours, `${config}:\n${compiled.stdout}`).toEqual([]);
    }
    expectAttack('TypeScript → CommonJS', await run(project, 'node', ['out/example.js']));
    expectAttack('TypeScript → ESM', await run(project, 'node', ['out/example.mjs']));
  }, 1_200_000);
});
