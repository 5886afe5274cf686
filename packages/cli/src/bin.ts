#!/usr/bin/env node
// The moco-robust command: parses flags, prints help and usage errors from the command table, then runs the handler.
// Help and argument errors never load tfjs: a handler (and with it tfjs) is imported only to run it.
import { COMMANDS } from './command-table';
import { describeFailure } from './exit-codes';
import { helpText, parseFlags } from './parse-flags';
import { UsageError } from './usage-error';

const USAGE = `moco-robust — label-free adversarial robustness for TensorFlow.js

Usage: moco-robust <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`moco-robust <command> --help\` for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version') {
    const { createRequire } = await import('node:module');
    process.stdout.write(`${createRequire(import.meta.url)('../package.json').version}\n`);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(
      `moco-robust: unknown command '${command}'; valid commands: ${Object.keys(COMMANDS).join(', ')}\n`,
    );
    return 2;
  }
  // TensorFlow's C++ start-up lines (CPU features, oneDNN notices) are noise in a terminal; errors still show.
  // Read when the native library loads, so it must be set before any command imports tfjs-node.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  if (entry.delegate?.when(rest)) return (await entry.delegate.load()).run(rest);
  const { values, positionals, help } = parseFlags(command, rest, entry.flags);
  if (help) {
    process.stdout.write(helpText(entry.usage ?? command, entry.help, entry.flags));
    return 0;
  }
  const action = entry.actions ? (positionals[0] ?? entry.actions[0]) : undefined;
  if (entry.actions && !entry.actions.includes(action!))
    throw new UsageError(
      `${command}: unknown action '${action}'; valid actions: ` +
        [...entry.actions]
          .sort()
          .map((a) => (a === entry.actions![0] ? `${a} (default)` : a))
          .join(', '),
    );
  const extra = entry.paths ? undefined : positionals[entry.actions ? 1 : 0];
  if (extra !== undefined) throw new UsageError(`${command}: unexpected argument '${extra}'`);
  const { handler } = await entry.load();
  return handler({ values, positionals, action });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const { code, message } = describeFailure(error);
    process.stderr.write(`moco-robust: ${message}\n`);
    if (process.env.MOCO_ROBUST_DEBUG) console.error(error);
    process.exitCode = code;
  },
);
