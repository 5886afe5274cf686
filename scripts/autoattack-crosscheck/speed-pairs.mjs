#!/usr/bin/env node
// Times the standard AutoAttack, ours against the reference implementation (fra31/auto-attack under PyTorch), in
// alternating pairs — ours then the reference, the next pair the other way round — so that a host whose speed
// drifts over the minutes (a shared VM) weighs on both alike. Prints, per pair and as medians over the pairs, each
// component's seconds and the speed ratio reference / ours (> 1: ours faster). A benchmark, never a test.
//
//   node scripts/autoattack-crosscheck/speed-pairs.mjs <model dir> <python> <auto-attack checkout> [pairs=5]
//     [count=512] [epsilon·255=8]
//
// e.g. node scripts/autoattack-crosscheck/speed-pairs.mjs /tmp/aa/model /tmp/aa-venv/bin/python /tmp/aa/auto-attack 5
// Both run on 2 threads (TORCH_THREADS=2 for the reference; tfjs-node on its defaults).
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const [model, python, checkout, pairsArg = '5', countArg = '512', epsilonArg = '8'] = process.argv.slice(2);
if (!model || !python || !checkout) {
  console.error('usage: speed-pairs.mjs <model dir> <python> <auto-attack checkout> [pairs] [count] [epsilon·255]');
  process.exit(2);
}
const COMPONENTS = ['apgd-ce', 'apgd-t', 'fab-t', 'square'];
const args = [model, epsilonArg, 'standard', countArg, '0'];

/** Seconds from the start at which each component ended, and the whole. */
async function ours() {
  const { stdout } = await run(process.execPath, [join(here, 'ours.mjs'), ...args], { maxBuffer: 1 << 26 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1));
  return COMPONENTS.map((name) => result.finishedAt[name]);
}

async function reference() {
  const env = { ...process.env, TORCH_THREADS: '2', PYTHONPATH: checkout };
  const { stdout } = await run(python, [join(here, 'reference.py'), ...args], { env, maxBuffer: 1 << 26 });
  // AutoAttack's own log: "robust accuracy after APGD-CE: 1.76% (total time 5.2 s)"
  const ended = Object.fromEntries(
    [...stdout.matchAll(/robust accuracy after ([A-Z-]+): [\d.]+% \(total time ([\d.]+) s\)/g)].map((m) => [
      m[1].toLowerCase(),
      Number(m[2]),
    ]),
  );
  return COMPONENTS.map((name) => ended[name]);
}

/** Per-component durations from the cumulative end times; the last entry is the whole. */
const durations = (ends) => [...ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1])), ends.at(-1)];
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(middle)] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const names = [...COMPONENTS, 'whole'];
const ratios = names.map(() => []);
console.log(`| pair (order) | ${names.map((n) => `${n}: ref / ours s`).join(' | ')} |`);
console.log(`|---|${names.map(() => '---:').join('|')}|`);
for (let pair = 0; pair < Number(pairsArg); pair++) {
  const oursFirst = pair % 2 === 0;
  const first = await (oursFirst ? ours() : reference());
  const second = await (oursFirst ? reference() : ours());
  const [a, b] = (oursFirst ? [second, first] : [first, second]).map(durations); // [reference, ours]
  const cells = names.map((_, i) => {
    ratios[i].push(a[i] / b[i]);
    return `${a[i].toFixed(1)} / ${b[i].toFixed(1)} (${(a[i] / b[i]).toFixed(2)}×)`;
  });
  console.log(`| ${pair + 1} (${oursFirst ? 'ours first' : 'reference first'}) | ${cells.join(' | ')} |`);
}
console.log(`| **median ratio** | ${ratios.map((r) => `**${median(r).toFixed(2)}×**`).join(' | ')} |`);
