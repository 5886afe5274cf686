#!/usr/bin/env node
// The moco-robust command. Help and argument errors never load tfjs: commands are imported lazily.
import { describeFailure } from './exit-codes';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  demo: {
    summary:
      'the whole pipeline on a CPU in minutes: MoCo-PGD pre-training ' +
      '→ adversarial fine-tuning → clean/FGSM/PGD/CIFAR-10-C report',
    load: () => import('./commands/demo'),
  },
  pretrain: {
    summary: 'adversarial self-supervised pre-training (moco-v1, moco-v2 or a plugin; moco-pgd, moco-fgsm or none)',
    load: () => import('./commands/pretrain'),
  },
  finetune: {
    summary: 'fine-tune a pre-trained encoder with a new classifier head (linear|partial|full, standard|adversarial)',
    load: () => import('./commands/finetune'),
  },
  eval: {
    summary: 'clean, FGSM, PGD and CIFAR-10-C accuracy of a classifier, with a report',
    load: () => import('./commands/eval'),
  },
  attack: {
    summary: 'adversarial examples against any tfjs model.json, with an image grid',
    load: () => import('./commands/attack'),
  },
  playground: {
    summary: 'a page on 127.0.0.1 to attack a run in the browser: FGSM, PGD, label-free MoCo-FGSM / MoCo-PGD',
    load: () => import('./commands/playground'),
  },
  corrupt: {
    summary: 'write a CIFAR-10-C-style set (official .npy layout) from CIFAR-10 images',
    load: () => import('./commands/corrupt'),
  },
  report: {
    summary: 'render one or several runs into one report (JSON, Markdown, SVG charts, HTML)',
    load: () => import('./commands/report'),
  },
  data: {
    summary:
      '`data download`: the official CIFAR-10 (and CIFAR-10-C), ' +
      'verified and resumable; `data info`: what was found where',
    load: () => import('./commands/data'),
  },
  grid: {
    summary:
      "the paper's Table 1 as one command: methods × attacks × architectures × seeds, resumable, " +
      'with confidence intervals and a report',
    load: () => import('./commands/grid'),
  },
  worker: {
    summary:
      'run grid cells from a Redis queue (BullMQ) on this machine: grid --queue submits them (docs/scale-out.md)',
    load: () => import('./commands/worker'),
  },
  bench: {
    summary:
      'images/s per backend: conv, ResNet, attacks, pre-training and ' +
      'fine-tuning steps, augmentation, CIFAR-10-C generator; --compare-torch',
    load: () => import('./commands/bench'),
  },
  backend: {
    summary: 'show which tfjs backends load and why; `backend build` builds the native one from a TensorFlow wheel',
    load: () => import('./commands/backend'),
  },
};

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
  const module = await entry.load();
  return module.run(rest);
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
