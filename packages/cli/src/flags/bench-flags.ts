import type { FlagSpec } from '../parse-flags';

/** `moco-robust bench`'s flags. */
export const BENCH_FLAGS = {
  backends: {
    type: 'string',
    description: "comma-separated backends, each measured in its own process ('none': only the CIFAR-10-C generator)",
    default: 'node,wasm,cpu',
  },
  'wasm-threads': {
    type: 'string',
    description: 'threads of the wasm backend (default $MOCO_ROBUST_WASM_THREADS, else every core up to 8)',
  },
  architecture: {
    type: 'string',
    description: 'ResNet of the model benchmarks (default resnet18; resnet8-w16 on cpu)',
  },
  tiny: {
    type: 'boolean',
    description: 'tiny shapes: proves the harness works in seconds (what CI runs); not a measurement',
  },
  'compare-torch': {
    type: 'boolean',
    description: 'run the PyTorch CPU reference in the same run and print a ratios table',
  },
  'torch-script': {
    type: 'string',
    description:
      "the PyTorch reference script (required by --compare-torch; the repository's `npm run bench` passes the " +
      'workplace reference)',
  },
  rounds: {
    type: 'string',
    description:
      'with --compare-torch: N ≥ 2 re-measures the compared workloads in N interleaved rounds (ours, then each ' +
      'PyTorch; the next round in reverse order) and reports the median ratio and its range — for a machine whose ' +
      'speed drifts between the two measurements',
    default: '1',
  },
  python: {
    type: 'string',
    description:
      "the Python(s) with torch, comma-separated: one reference each, e.g. Debian's python3-torch and a venv with " +
      'PyTorch 2.x',
    default: '/usr/bin/python3',
  },
  'corruption-images': {
    type: 'string',
    description: 'images for the CIFAR-10-C generator benchmark (0 skips it)',
    default: '1000',
  },
  data: {
    type: 'string',
    description:
      'CIFAR-10 for the corruption benchmark (default $MOCO_ROBUST_DATA or the cache; seeded noise otherwise)',
  },
  frost: { type: 'string', description: 'frost textures for the corruption benchmark (default $MOCO_ROBUST_FROST)' },
  out: { type: 'string', description: 'folder for the JSON results', default: 'bench-results' },
  json: { type: 'boolean', description: 'print the whole result as one JSON object on stdout' },
  memory: {
    type: 'boolean',
    description:
      'measure memory instead: peak RSS, page faults and system time of a MoCo-PGD-10 pre-training step of ResNet-18 ' +
      '(default and tuned glibc malloc), and the tensor count over many tiny pre-training steps (skips cpu)',
  },
  'memory-batch': { type: 'string', description: 'batch of the --memory pre-training step', default: '128' },
  'memory-steps': {
    type: 'string',
    description: 'tiny pre-training steps whose tensor count --memory traces (0 skips it)',
    default: '10000',
  },
  child: { type: 'string', description: '(internal) measure one backend and print JSON' },
  'compared-child': {
    type: 'string',
    description: "(internal) one --rounds round's measurement of one backend's compared workloads, printed as JSON",
  },
  'memory-child': {
    type: 'string',
    description: '(internal) one --memory measurement, `step:<backend>` or `tensors:<backend>`, printed as JSON',
  },
} satisfies FlagSpec;

/** `moco-robust bench --help`: what the command does and writes. */
export const BENCH_HELP =
  'Measures, per backend: conv2d GFLOP/s, ResNet forward and training-step images/s, FGSM / PGD-10 ' +
  '/ MoCo-PGD-10 attacks, MoCo pre-training steps (plain, MoCo-FGSM, MoCo-PGD-10), adversarial ' +
  'fine-tuning steps and the MoCo-v2 augmentation; then the CIFAR-10-C generator in one thread and on ' +
  'workers. --compare-torch adds the PyTorch reference and a `ratios` table. Never asserts a speed.';
