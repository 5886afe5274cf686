// The commands of `moco-robust`, declared once: name, one-line summary, help, flags, the words they take and the
// handler. This file and everything it imports statically load no tfjs: bin.ts prints help and usage errors from
// the table, and imports a handler (and with it tfjs) only to run it.
import { ATTACK_FLAGS, ATTACK_HELP } from './flags/attack-flags';
import { BACKEND_FLAGS, BACKEND_HELP } from './flags/backend-flags';
import { BENCH_FLAGS, BENCH_HELP } from './flags/bench-flags';
import { CORRUPT_FLAGS, CORRUPT_HELP } from './flags/corrupt-flags';
import { DATA_FLAGS, DATA_HELP } from './flags/data-flags';
import { DEMO_FLAGS, DEMO_HELP } from './flags/demo-flags';
import { EVAL_FLAGS, EVAL_HELP } from './flags/eval-flags';
import { FINETUNE_FLAGS, FINETUNE_HELP } from './flags/finetune-flags';
import { GRID_FLAGS, GRID_HELP } from './flags/grid-flags';
import { PLAYGROUND_FLAGS, PLAYGROUND_HELP } from './flags/playground-flags';
import { PRETRAIN_FLAGS, PRETRAIN_HELP } from './flags/pretrain-flags';
import { REPORT_FLAGS, REPORT_HELP } from './flags/report-flags';
import { WORKER_FLAGS, WORKER_HELP } from './flags/worker-flags';
import type { FlagSpec, FlagValues } from './parse-flags';

/** What a handler receives: the parsed flags (defaults applied, choices checked) and the words after the command. */
export interface CommandInput<S extends FlagSpec> {
  values: FlagValues<S>;
  positionals: string[];
  /** The command's action (`data download`), checked against {@link CommandSpec.actions}; the first when none given. */
  action?: string;
}

/** A command's handler: calls the libraries, writes and renders; resolves to the exit code. */
export type CommandHandler<S extends FlagSpec> = (input: CommandInput<S>) => Promise<number>;

/** One command of the table. */
export interface CommandSpec<S extends FlagSpec = FlagSpec> {
  /** One line for `moco-robust --help`. */
  summary: string;
  /** The body of `moco-robust <command> --help`: what the command does and writes. */
  help: string;
  /** The command as the help's usage line shows it, e.g. `backend [build]` (default: its name). */
  usage?: string;
  flags: S;
  /**
   * The words after the command: none (the default; a word is a usage error), one action of `actions` (the first is
   * the default), or `paths` (any number; the handler checks them).
   */
  actions?: readonly string[];
  paths?: true;
  /**
   * Argument lists another module parses itself (grid's Redis scale-out: `grid --queue …`, `grid status|report`):
   * when `when(argv)` holds, bin.ts hands the raw arguments to `load()`'s `run`.
   */
  delegate?: {
    when: (argv: readonly string[]) => boolean;
    load: () => Promise<{ run(argv: string[]): Promise<number> }>;
  };
  /** The module whose `handler` runs the command, imported only to run it. */
  load: () => Promise<{ handler: CommandHandler<S> }>;
}

/** Checks each entry's handler against its own flags, then forgets the flag type for the table. */
const command = <S extends FlagSpec>(spec: CommandSpec<S>): CommandSpec => spec as unknown as CommandSpec;

/** Every command, in the order `moco-robust --help` lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  demo: command({
    summary:
      'the whole pipeline on a CPU in minutes: MoCo-PGD pre-training ' +
      '→ adversarial fine-tuning → clean/FGSM/PGD/CIFAR-10-C report',
    help: DEMO_HELP,
    flags: DEMO_FLAGS,
    load: () => import('./commands/demo'),
  }),
  pretrain: command({
    summary: 'adversarial self-supervised pre-training (moco-v1, moco-v2 or a plugin; moco-pgd, moco-fgsm or none)',
    help: PRETRAIN_HELP,
    flags: PRETRAIN_FLAGS,
    load: () => import('./commands/pretrain'),
  }),
  finetune: command({
    summary: 'fine-tune a pre-trained encoder with a new classifier head (linear|partial|full, standard|adversarial)',
    help: FINETUNE_HELP,
    flags: FINETUNE_FLAGS,
    load: () => import('./commands/finetune'),
  }),
  eval: command({
    summary: 'clean, FGSM, PGD and CIFAR-10-C accuracy of a classifier, with a report',
    help: EVAL_HELP,
    flags: EVAL_FLAGS,
    load: () => import('./commands/eval'),
  }),
  attack: command({
    summary: 'adversarial examples against any tfjs model.json, with an image grid',
    help: ATTACK_HELP,
    flags: ATTACK_FLAGS,
    load: () => import('./commands/attack'),
  }),
  playground: command({
    summary: 'a page on 127.0.0.1 to attack a run in the browser: FGSM, PGD, label-free MoCo-FGSM / MoCo-PGD',
    help: PLAYGROUND_HELP,
    flags: PLAYGROUND_FLAGS,
    load: () => import('./commands/playground'),
  }),
  corrupt: command({
    summary: 'write a CIFAR-10-C-style set (official .npy layout) from CIFAR-10 images',
    help: CORRUPT_HELP,
    flags: CORRUPT_FLAGS,
    load: () => import('./commands/corrupt'),
  }),
  report: command({
    summary: 'render one or several runs into one report (JSON, Markdown, SVG charts, HTML)',
    help: REPORT_HELP,
    flags: REPORT_FLAGS,
    paths: true,
    load: () => import('./commands/report'),
  }),
  data: command({
    summary:
      '`data download`: the official CIFAR-10 (and CIFAR-10-C), ' +
      'verified and resumable; `data info`: what was found where',
    help: DATA_HELP,
    usage: 'data info',
    flags: DATA_FLAGS,
    actions: ['info', 'download'],
    load: () => import('./commands/data'),
  }),
  grid: command({
    summary:
      "the paper's Table 1 as one command: methods × attacks × architectures × seeds, resumable, " +
      'with confidence intervals and a report',
    help: GRID_HELP,
    flags: GRID_FLAGS,
    delegate: {
      when: (argv) =>
        argv[0] === 'status' || argv[0] === 'report' || argv.some((a) => a === '--queue' || a.startsWith('--queue=')),
      load: () => import('./queue/grid-queue-command'),
    },
    load: () => import('./commands/grid'),
  }),
  worker: command({
    summary:
      'run grid cells from a Redis queue (BullMQ) on this machine: grid --queue submits them (docs/scale-out.md)',
    help: WORKER_HELP,
    flags: WORKER_FLAGS,
    load: () => import('./commands/worker'),
  }),
  bench: command({
    summary:
      'images/s per backend: conv, ResNet, attacks, pre-training and ' +
      'fine-tuning steps, augmentation, CIFAR-10-C generator; --compare-torch',
    help: BENCH_HELP,
    flags: BENCH_FLAGS,
    load: () => import('./commands/bench'),
  }),
  backend: command({
    summary: 'show which tfjs backends load and why; `backend build` builds the native one from a TensorFlow wheel',
    help: BACKEND_HELP,
    usage: 'backend [build]',
    flags: BACKEND_FLAGS,
    actions: ['info', 'build'],
    load: () => import('./commands/backend'),
  }),
};
