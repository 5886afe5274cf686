import { parseArgs } from 'node:util';
import { UsageError } from './usage-error';

/** A command's flags: name → kind, description, choices. */
export type FlagSpec = Record<
  string,
  {
    type: 'string' | 'boolean';
    description: string;
    choices?: readonly string[];
    default?: string | boolean;
    multiple?: boolean;
  }
>;

/** The parsed values of a flag spec: strings, booleans, or string lists for `multiple` flags; absent if not given. */
export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]?: S[K]['multiple'] extends true ? string[] : S[K]['type'] extends 'boolean' ? boolean : string;
};

/**
 * Parses `argv` strictly: unknown flags and bad choices throw a {@link UsageError} naming the flag and the valid
 * values.
 */
export function parseFlags<S extends FlagSpec>(
  command: string,
  argv: string[],
  spec: S,
): { values: FlagValues<S>; positionals: string[]; help: boolean } {
  const options = Object.fromEntries(
    Object.entries(spec).map(([name, s]) => [name, { type: s.type, multiple: s.multiple ?? false }]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0].replace(/\. To specify.*$/, '');
    throw new UsageError(
      `${command}: ${message}; valid options: ${Object.keys(spec)
        .map((n) => `--${n}`)
        .join(', ')}`,
    );
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const [name, s] of Object.entries(spec)) {
    if (values[name] === undefined && s.default !== undefined) values[name] = s.default;
    if (s.choices && values[name] !== undefined && !s.choices.includes(values[name] as string)) {
      throw new UsageError(
        `${command}: --${name} must be one of ${s.choices.join(', ')}; got '${String(values[name])}'`,
      );
    }
  }
  return { values: values as never, positionals: parsed.positionals, help: Boolean(values.help) };
}

/** Help text of a command from its flag spec. */
export function helpText(command: string, summary: string, spec: FlagSpec): string {
  const lines = Object.entries(spec).map(([name, s]) => {
    const flag = `--${name}${s.type === 'string' ? ' <value>' : ''}`;
    const extra = [
      s.choices ? `one of ${s.choices.join('|')}` : '',
      s.default !== undefined ? `default ${String(s.default)}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    return `  ${flag.padEnd(26)} ${s.description}${extra ? ` (${extra})` : ''}`;
  });
  return (
    `Usage: moco-robust ${command} [options]\n\n${summary}\n\nOptions:\n${lines.join('\n')}\n ` +
    ` --help                     this help\n`
  );
}

/** Parses a non-negative integer flag, naming it in the error. */
export function integerFlag(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${command}: --${name} must be a non-negative integer; got '${value}'`);
  return n;
}
