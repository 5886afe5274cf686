import { buildNativeBackend, selectBackend, type BackendName } from '@moco-robust/core';
import type { CommandInput } from '../command-table';
import type { BACKEND_FLAGS } from '../flags/backend-flags';
import { ProgressRenderer, selectionDetails } from '../progress';

/** `moco-robust backend [build]`. */
export async function handler({ values, action }: CommandInput<typeof BACKEND_FLAGS>): Promise<number> {
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
  process.stdout.write(`chosen: ${selection.name}${selectionDetails(selection)} (${selection.reason})\n`);
  return 0;
}
