import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromiumPath, writeScreenshot, cifarSampleDir, withHeadlessChromium } from '@moco-robust/testing';
import { describe, expect, it } from 'vitest';
import { CLI_BIN, cliEnv, runCli } from './run-cli';
import { expandGrid, parseSeeds, resolveGridSpec } from '../src/grid/grid-spec';

const sample = cifarSampleDir();
const chromium = chromiumPath(); // throws in CI when missing
const env = cliEnv();
/** Runs a grid command of the built CLI (a grid of tiny cells may take minutes). */
const runGrid = (args: string[]) => runCli(args, { timeoutMs: 600_000 });
/** A small tiny-preset budget: 128 training and 64 test images, CIFAR-10-C from 4 images, AutoAttack cpu APGD-5. */
const SMALL = [
  '--autoattack',
  'cpu',
  '--set',
  'eval.autoAttackSteps=5',
  '--preset',
  'tiny',
  '--set',
  'data.trainImages=128',
  '--set',
  'data.testImages=64',
  '--set',
  'finetune.validationSize=16',
  '--set',
  'eval.cifar10cImages=4',
];
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('grid spec', () => {
  it('expands methods × attacks × architectures × seeds into named cells (none has no attack)', () => {
    const spec = resolveGridSpec({
      preset: 'tiny',
      methods: ['none', 'moco-v1', 'jigsaw'],
      attacks: 'moco-pgd,moco-fgsm',
      architectures: ['resnet6-w8', 'resnet8-w16'],
      seeds: [0, 1],
      settings: { finetune: { epochs: 3 } },
    });
    const cells = expandGrid(spec);
    expect(cells).toHaveLength(2 * 2 * (1 + 2 + 2));
    expect(cells.slice(0, 5).map((c) => c.name.replace(/\.[0-9a-f]{10}$/, ''))).toEqual([
      'none.resnet6-w8.s0',
      'moco-v1.moco-pgd.resnet6-w8.s0',
      'moco-v1.moco-fgsm.resnet6-w8.s0',
      'jigsaw.moco-pgd.resnet6-w8.s0',
      'jigsaw.moco-fgsm.resnet6-w8.s0',
    ]);
    expect(new Set(cells.map((c) => c.name)).size).toBe(cells.length);
    const jigsaw = cells.find((c) => c.name.startsWith('jigsaw.moco-fgsm.resnet8-w16.s1'))!;
    expect(jigsaw.config).toMatchObject({
      seed: 1,
      model: { architecture: 'resnet8-w16' },
      pretrain: { method: 'jigsaw', attack: { kind: 'fgsm' } },
      finetune: { epochs: 3 },
    });
    expect(cells.find((c) => c.method === 'none')!.config.pretrain.attack.kind).toBe('none');
    // the hash is of the resolved config: the same cell in another grid has the same name, a changed setting another
    const again = expandGrid(
      resolveGridSpec({
        preset: 'tiny',
        methods: ['jigsaw'],
        attacks: ['moco-fgsm'],
        architectures: ['resnet8-w16'],
        seeds: [1],
        settings: { finetune: { epochs: 3 } },
      }),
    );
    expect(again[0]!.name).toBe(jigsaw.name);
    const other = expandGrid(
      resolveGridSpec({
        preset: 'tiny',
        methods: ['jigsaw'],
        attacks: ['moco-fgsm'],
        architectures: ['resnet8-w16'],
        seeds: [1],
      }),
    );
    expect(other[0]!.name).not.toBe(jigsaw.name);
    expect(parseSeeds('0-2,7')).toEqual([0, 1, 2, 7]);
  });

  it('refuses unknown keys, attacks and settings naming them', () => {
    expect(() => resolveGridSpec({ metods: ['none'] })).toThrow(/unknown key 'metods'; valid keys: name, preset/);
    expect(() => resolveGridSpec({ attacks: ['pgd'] })).toThrow(
      /'attacks' must hold moco-pgd, moco-fgsm, none; got 'pgd'/,
    );
    expect(() => resolveGridSpec({ settings: { finetune: { epoch: 2 } } })).toThrow(/unknown key 'finetune.epoch'/);
    expect(() => resolveGridSpec({ architectures: ['resnet7'] })).toThrow(/'model.architecture' must be one of/);
    expect(() => parseSeeds('a')).toThrow(/--seeds expects integers or ranges/);
  });
});

/** Serves `dir` and a probe page that reports the report page's tables, charts and text back. */
async function serveProbe(dir: string) {
  let resolveResult!: (value: Record<string, unknown>) => void;
  const result = new Promise<Record<string, unknown>>((resolve) => (resolveResult = resolve));
  const probe = `<!doctype html><body><iframe id="r" src="/report.html" width="1280" height="2000"></iframe><script>
document.getElementById('r').addEventListener('load', async () => {
  const doc = document.getElementById('r').contentDocument;
  const images = [...doc.images];
  await Promise.all(images.map((img) => img.decode().catch(() => undefined)));
  const result = { title: doc.title, charts: doc.querySelectorAll('img.chart').length, text: doc.body.innerText,
    broken: images.filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.alt),
    tables: [...doc.querySelectorAll('table')].map((t) => t.id) };
  await fetch('/result', { method: 'POST', body: JSON.stringify(result) });
});</script></body>`;
  const types: Record<string, string> = { '.html': 'text/html', '.svg': 'image/svg+xml' };
  const server = createServer((request, response) => {
    if (request.method === 'POST') {
      let body = '';
      request
        .on('data', (c) => (body += c))
        .on('end', () => {
          response.end();
          resolveResult(JSON.parse(body));
        });
      return;
    }
    const path = (request.url ?? '/').split('?')[0]!;
    if (path === '/probe') return void response.end(probe);
    const file = join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    if (!existsSync(file)) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, result };
}

describe.skipIf(!sample)('moco-robust grid (the built binary, tiny preset)', () => {
  let root = '';
  let grid = '';

  it('dry-run lists the cells with a cost measured from short steps, writing nothing', async () => {
    root = await mkdtemp(join(tmpdir(), 'mr-grid-'));
    const out = join(root, 'dry');
    const result = runGrid([
      'grid',
      ...SMALL,
      '--methods',
      'none,moco-v1',
      '--attacks',
      'moco-pgd',
      '--seeds',
      '0',
      '--out',
      out,
      '--dry-run',
      '--json',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.cells.map((c: { cell: string }) => c.cell.replace(/\.[0-9a-f]{10}$/, ''))).toEqual([
      'none.resnet6-w8.s0',
      'moco-v1.moco-pgd.resnet6-w8.s0',
    ]);
    expect(plan.cells[0].pretrainSeconds).toBe(0);
    expect(plan.cells[1].pretrainSeconds).toBeGreaterThan(0);
    expect(plan.cells[1].finetuneSeconds).toBeGreaterThan(0);
    for (const cell of plan.cells) {
      expect(cell.autoAttackSeconds).toBeGreaterThan(0);
      expect(cell.cifar10cSeconds).toBeGreaterThan(0);
      expect(cell.cpuSeconds).toBeGreaterThan(0); // the same total in CPU time, less distorted by other load
    }
    expect(plan.measured.cores).toBeGreaterThan(0);
    expect(plan.totalSeconds).toBeCloseTo(plan.cells[0].totalSeconds + plan.cells[1].totalSeconds, 6);
    expect(existsSync(out)).toBe(false);
  });

  it('runs 2 methods × 2 seeds, records a failing cell (exit 10), the others finish; --retry-failed reruns it', () => {
    grid = join(root, 'grid');
    const result = runGrid([
      'grid',
      ...SMALL,
      '--methods',
      'none,moco-v1,no-such-method',
      '--attacks',
      'moco-pgd',
      '--seeds',
      '0-1',
      '--out',
      grid,
      '--json',
    ]);
    expect(result.status, result.stderr).toBe(10); // some cells failed: the grid's own exit code (docs/cli.md)
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ done: 4, failed: 2, cells: 6 });
    const file = readJson(join(grid, 'grid.json'));
    const failed = file.cells.filter((c: { method: string }) => c.method === 'no-such-method');
    for (const c of failed) {
      const status = readJson(join(grid, 'cells', c.name, 'status.json'));
      expect(status).toMatchObject({ status: 'failed', attempts: 1, error: { name: 'PluginError' } });
      expect(status.error.message).toMatch(/needs the plugin package @moco-robust\/pretext-no-such-method/);
    }
    for (const c of file.cells.filter((c: { method: string }) => c.method !== 'no-such-method')) {
      const dir = join(grid, 'cells', c.name);
      expect(readJson(join(dir, 'status.json')).status).toBe('done');
      for (const f of ['config.json', 'result.json', 'finetune/model/weights.bin', 'eval/report.json'])
        expect(existsSync(join(dir, f)), `${c.name}/${f}`).toBe(true);
      expect(existsSync(join(dir, 'pretrain', 'encoder', 'model.json'))).toBe(c.method !== 'none');
    }
    const retry = runGrid(['grid', '--resume', '--retry-failed', '--out', grid, '--json']);
    expect(retry.status).toBe(10);
    expect(retry.stderr).toMatch(/none\.resnet6-w8\.s0\.[0-9a-f]{10}: skipped \(done\)/);
    for (const c of failed) expect(readJson(join(grid, 'cells', c.name, 'status.json')).attempts).toBe(2);
    // the scale-out's report of the same folder as a store says the same: exit 10, the failed cells counted
    const fromStore = runGrid(['grid', 'report', '--store', root, '--grid', 'grid', '--json']);
    expect(fromStore.status, fromStore.stderr).toBe(10);
    expect(JSON.parse(fromStore.stdout)).toMatchObject({ done: 4, failed: 2 });
  });

  it("the report's numbers equal the cells' JSON; Table 1, differences, quoted table and charts render", async () => {
    const report = readJson(join(grid, 'report.json'));
    const file = readJson(join(grid, 'grid.json'));
    for (const [method, attack] of [
      ['none', 'none'],
      ['moco-v1', 'moco-pgd'],
    ]) {
      const cells = file.cells.filter((c: { method: string }) => c.method === method);
      const results = cells.map((c: { name: string }) => readJson(join(grid, 'cells', c.name, 'result.json')).report);
      const row = report.rows.find(
        (r: { method: string; pretrainAttack: string }) => r.method === method && r.pretrainAttack === attack,
      );
      for (const evaluation of ['clean', 'fgsm', 'pgd', 'autoAttack']) {
        const values = results.map(
          (r: Record<string, Record<string, { accuracy: number }>>) => r.robustness![evaluation]!.accuracy,
        );
        const entry = row.entries[`resnet6-w8/${evaluation}`];
        expect(entry.summary.values).toEqual(values);
        expect(entry.summary.n).toBe(2);
        expect(entry.summary.mean).toBeCloseTo((values[0] + values[1]) / 2, 12);
      }
      const means = results.map((r: { corruptions: { meanEvaluated: number } }) => r.corruptions.meanEvaluated);
      expect(row.corruptions['resnet6-w8'].mean.values).toEqual(means);
    }
    const none = report.rows.find((r: { method: string }) => r.method === 'none');
    expect(none.reference).toBe('MoCo · MoCo-PGD pre-training');
    expect(none.entries['resnet6-w8/pgd'].difference.seeds).toEqual([0, 1]);
    const md = readFileSync(join(grid, 'report.md'), 'utf8');
    const pgd = none.entries['resnet6-w8/pgd'].summary;
    expect(md).toContain(`${(100 * pgd.mean).toFixed(2)} ± ${(100 * pgd.halfWidth).toFixed(2)} (n=2)`);
    expect(md).toMatch(/## The paper's Table 1 \(quoted, not reproduced here\)/);
    // AutoAttack is its own column per architecture, and the report names the attack and settings behind it
    expect(report.evaluations).toEqual(['clean', 'fgsm', 'pgd', 'autoAttack']);
    expect(md).toContain('| resnet6-w8 clean | resnet6-w8 FGSM | resnet6-w8 PGD | resnet6-w8 AutoAttack |');
    expect(md).toContain('- AutoAttack: AutoAttack cpu (L∞, ε=8/255, APGD 5 iterations)');
    const auto = none.entries['resnet6-w8/autoAttack'].summary;
    expect(md).toContain(`${(100 * auto.mean).toFixed(2)} ± ${(100 * auto.halfWidth).toFixed(2)} (n=2)`);
    for (const f of ['report.html', 'charts/table1-resnet6-w8.svg', 'charts/cifar10c-resnet6-w8.svg'])
      expect(existsSync(join(grid, f)), f).toBe(true);
    if (!chromium) return;
    const { server, port, result } = await serveProbe(grid);
    try {
      const page = await withHeadlessChromium(`http://127.0.0.1:${port}/probe`, result);
      expect(page.broken).toEqual([]);
      expect(page.charts).toBe(2);
      expect(page.tables).toEqual(['table1', 'differences', 'claims', 'cifar10c', 'quoted', 'cells']);
      expect(page.text as string).toContain(
        `${(100 * pgd.mean).toFixed(2)} ± ${(100 * pgd.halfWidth).toFixed(2)} (n=2)`,
      );
      const screenshot = join(root, 'grid.png');
      await writeScreenshot(`http://127.0.0.1:${port}/report.html`, screenshot, { width: 1280, height: 2000 });
      expect(readFileSync(screenshot).length).toBeGreaterThan(50_000);
      if (process.env.MOCO_ROBUST_KEEP_SCREENSHOT)
        spawnSync('cp', [screenshot, process.env.MOCO_ROBUST_KEEP_SCREENSHOT]);
    } finally {
      server.close();
    }
  });

  it('SIGKILL mid-cell, then --resume: the interrupted cell ends with the uninterrupted grid’s weights', async () => {
    const killed = join(root, 'killed');
    const args = ['grid', ...SMALL, '--methods', 'moco-v1', '--attacks', 'moco-pgd', '--seeds', '0', '--out', killed];
    const child = spawn(process.execPath, [CLI_BIN, ...args], { env });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // killed right after the cell's first fine-tuning checkpoint (epoch 1 of 2), before its model is written
    const watch = setInterval(() => {
      const cells = existsSync(join(killed, 'cells')) ? readdirSync(join(killed, 'cells')) : [];
      if (cells.some((c) => existsSync(join(killed, 'cells', c, 'finetune', 'checkpoints', 'latest'))) && !child.killed)
        child.kill('SIGKILL');
    }, 50);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    clearInterval(watch);
    expect(signal, stderr).toBe('SIGKILL');
    expect(code).toBeNull();
    const [cell] = readJson(join(killed, 'grid.json')).cells;
    const dir = join(killed, 'cells', cell.name);
    expect(readJson(join(dir, 'status.json')).status).toBe('running');
    expect(existsSync(join(dir, 'finetune', 'model'))).toBe(false);
    const resumed = runGrid(['grid', '--resume', '--out', killed, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming \(attempt 2\)/);
    const reference = join(grid, 'cells', cell.name); // the same cell (same hash) in the uninterrupted grid
    expect(existsSync(reference)).toBe(true);
    for (const f of ['pretrain/encoder/weights.bin', 'finetune/model/weights.bin'])
      expect(readFileSync(join(dir, f)).equals(readFileSync(join(reference, f))), f).toBe(true);
    expect(readJson(join(dir, 'result.json')).report.robustness).toEqual(
      readJson(join(reference, 'result.json')).report.robustness,
    );
  });
});
