import type { FlagSpec } from '../parse-flags';
import { ATTACK_FLAG_DEFAULTS, BACKEND_CHOICES } from './choices';

/** `moco-robust attack`'s flags. */
export const ATTACK_FLAGS = {
  model: {
    type: 'string',
    description:
      'the model: any tfjs layers model.json (a path, folder or http(s):// ' +
      'URL), or a finetune run / checkpoint directory; images in [0,1]',
  },
  attack: {
    type: 'string',
    description:
      'fgsm / pgd use the labels (the model outputs logits); instance is ' +
      "label-free (RoCL's instance-wise PGD on the model's output features); moco-pgd / moco-fgsm are the paper's " +
      'label-free attacks on the MoCo loss of --encoder',
    choices: ['fgsm', 'pgd', 'instance', 'moco-pgd', 'moco-fgsm'],
    default: 'pgd',
  },
  encoder: {
    type: 'string',
    description:
      'moco-pgd / moco-fgsm: the encoder (a pretrain run, checkpoint or model.json); --model is then optional (the ' +
      'classifier whose accuracy the crafted images cost)',
  },
  negatives: {
    type: 'string',
    description: 'moco-pgd / moco-fgsm: training images encoded as the queue of negatives',
    default: '256',
  },
  temperature: { type: 'string', description: 'moco-pgd / moco-fgsm: InfoNCE temperature', default: '0.2' },
  epsilon: {
    type: 'string',
    description: 'L∞ radius: a fraction of 255 like 8/255, or a number',
    default: ATTACK_FLAG_DEFAULTS.epsilon,
  },
  'step-size': {
    type: 'string',
    description: 'PGD step (a fraction of 255 or a number)',
    default: ATTACK_FLAG_DEFAULTS.stepSize,
  },
  steps: { type: 'string', description: 'PGD steps', default: ATTACK_FLAG_DEFAULTS.steps },
  data: {
    type: 'string',
    description: 'CIFAR-10 binary files (folder, or its parent); default $MOCO_ROBUST_DATA or the cache',
  },
  split: { type: 'string', description: 'which images to attack', choices: ['test', 'train'], default: 'test' },
  images: { type: 'string', description: 'attack the first N images', default: '256' },
  'batch-size': { type: 'string', description: 'images per attack batch', default: '128' },
  seed: { type: 'string', description: 'seed of the random start', default: '0' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: BACKEND_CHOICES },
  out: { type: 'string', description: 'output folder (new or empty)' },
  json: { type: 'boolean', description: 'print one JSON object with the results on stdout' },
} satisfies FlagSpec;

/** `moco-robust attack --help`: what the command does and writes. */
export const ATTACK_HELP =
  'Crafts adversarial examples against a tfjs model (or, label-free, against an encoder with MoCo-PGD / MoCo-FGSM) ' +
  'and writes ' +
  '<out>/adversarial.npy (uint8 [N,32,32,3]), labels.npy, ' +
  'result.json (clean vs adversarial accuracy) and grid.png (clean, adversarial and the perturbation magnified).';
