import { buildNativeBackend, selectBackend, BACKEND_NAMES, type BackendName } from '@moco-robust/core';
import { helpText, parseFlags, type FlagSpec } from '../parse-flags';
import { ProgressRenderer } from '../progress';
import { UsageError } from '../usage-error';

const FLAGS = {
  backend: { type: 'string', description: 'force one backend (as MOCO_ROBUST_BACKEND)', choices: BACKEND_NAMES },
  variant: {
    type: 'string',
    description: 'build: tfjs-node (cpu) or tfjs-node-gpu (gpu)',
    choices: ['cpu', 'gpu'],
    default: 'cpu',
  },
  'tensorflow-version': { type: 'string', description: 'build: TensorFlow wheel version', default: '2.21.0' },
  wheel: { type: 'string', description: 'build: an already downloaded TensorFlow wheel' },
  force: { type: 'boolean', description: 'build: rebuild even if the backend loads' },
  json: { type: 'boolean', description: 'print one JSON object on stdout' },
} satisfies FlagSpec;

const SUMMARY =
  '`moco-robust backend` shows which tfjs backends load, which ' +
  'one is chosen and why the others were skipped.\n`moco-robust ' +
  'backend build` builds @tensorflow/tfjs-node(-gpu) against the TensorFlow C library of a pip wheel.';

/** `moco-robust backend [build]`. */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseFlags('backend', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('backend [build]', SUMMARY, FLAGS));
    return 0;
  }
  const action = positionals[0] ?? 'info';
  if (action === 'build') {
    const renderer = new ProgressRenderer();
    const result = await buildNativeBackend(
      {
        variant: values.variant as 'cpu' | 'gpu',
        tensorflowVersion: values['tensorflow-version'],
        wheel: values.wheel,
        force: values.force,
      },
      renderer.listener,
    );
    process.stdout.write(
      values.json
        ? `${JSON.stringify(result)}\n`
        : `built ${result.packageDir} in ${result.seconds.toFixed(0)} s (max ` +
            `|native − cpu| ${result.verification.maxDifference.toExponential(2)})\n`,
    );
    return 0;
  }
  if (action !== 'info')
    throw new UsageError(`backend: unknown action '${action}'; valid actions: info (default), build`);
  const selection = await selectBackend({ backend: values.backend as BackendName | undefined });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(selection)}\n`);
    return 0;
  }
  for (const a of selection.attempts)
    process.stdout.write(
      `  ${a.ok ? '✓' : '✗'} ${a.name.padEnd(9)} ` +
        `${a.packageName}${a.ok ? ` (${a.milliseconds.toFixed(0)} ms)` : `: ${a.reason}`}\n`,
    );
  const threads =
    selection.threads === undefined ? '' : `, ${selection.threads} thread${selection.threads === 1 ? '' : 's'}`;
  process.stdout.write(`chosen: ${selection.name}${threads} (${selection.reason})\n`);
  return 0;
}
