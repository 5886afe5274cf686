import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { atomicWriteFile, Rng, selectBackend, type BackendName } from '@moco-robust/core';
import { fgsm, instancePgd, supervisedPgd, toForward } from '@moco-robust/attacks';
import { findCifar10, loadCifar10, sliceImages, sliceLabels, takeImages, writeNpy } from '@moco-robust/data';
import { encodePng } from '@moco-robust/eval';
import { helpText, integerFlag, parseFlags, type FlagSpec } from '../parse-flags';
import { ProgressRenderer } from '../progress';
import { loadModelFrom, resolveModelSource } from '../run/pipeline';
import { assertEmptyOutput } from '../run/run-dir';
import { UsageError } from '../usage-error';

const FLAGS = {
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
      "label-free (RoCL's instance-wise PGD on the model's output features)",
    choices: ['fgsm', 'pgd', 'instance'],
    default: 'pgd',
  },
  epsilon: { type: 'string', description: 'L∞ radius: a fraction of 255 like 8/255, or a number', default: '8/255' },
  'step-size': { type: 'string', description: 'PGD step (a fraction of 255 or a number)', default: '2/255' },
  steps: { type: 'string', description: 'PGD steps', default: '10' },
  data: {
    type: 'string',
    description: 'CIFAR-10 binary files (folder, or its parent); default $MOCO_ROBUST_DATA or the cache',
  },
  split: { type: 'string', description: 'which images to attack', choices: ['test', 'train'], default: 'test' },
  images: { type: 'string', description: 'attack the first N images', default: '256' },
  'batch-size': { type: 'string', description: 'images per attack batch', default: '128' },
  seed: { type: 'string', description: 'seed of the random start', default: '0' },
  backend: { type: 'string', description: 'force a tfjs backend', choices: ['node-gpu', 'node', 'wasm', 'cpu'] },
  out: { type: 'string', description: 'output folder (new or empty)' },
  json: { type: 'boolean', description: 'print one JSON object with the results on stdout' },
} satisfies FlagSpec;

const SUMMARY =
  'Crafts adversarial examples against a tfjs model and writes ' +
  '<out>/adversarial.npy (uint8 [N,32,32,3]), labels.npy, ' +
  'result.json (clean vs adversarial accuracy) and grid.png (clean, adversarial and the perturbation magnified).';

/** `8/255` → 0.0313…; a plain number as is. */
export function parseFraction(command: string, name: string, text: string): number {
  const match = /^\s*([\d.]+)\s*\/\s*([\d.]+)\s*$/.exec(text);
  const value = match ? Number(match[1]) / Number(match[2]) : Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1)
    throw new UsageError(`${command}: --${name} must be a number in [0, 1] or a fraction like 8/255; got '${text}'`);
  return value;
}

/** `moco-robust attack`. */
export async function run(argv: string[]): Promise<number> {
  const { values, help, positionals } = parseFlags('attack', argv, FLAGS);
  if (help) {
    process.stdout.write(helpText('attack', SUMMARY, FLAGS));
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`attack: unexpected argument '${positionals[0]}'`);
  if (!values.model) throw new UsageError('attack: --model <model.json | folder | URL | run> is required');
  if (!values.out) throw new UsageError('attack: --out <folder> is required');
  const epsilon = parseFraction('attack', 'epsilon', values.epsilon!);
  const stepSize = parseFraction('attack', 'step-size', values['step-size']!);
  const steps = integerFlag('attack', 'steps', values.steps, 10);
  const batchSize = Math.max(1, integerFlag('attack', 'batch-size', values['batch-size'], 128));
  const out = resolve(values.out);
  await assertEmptyOutput('attack', out);
  const folder = findCifar10(values.data);
  if (!folder)
    throw new UsageError('attack: no CIFAR-10 binary files found: pass --data <folder> or set MOCO_ROBUST_DATA');
  const source = /^[a-z]+:\/\//i.test(values.model) ? undefined : await resolveModelSource(values.model, 'classifier');
  const renderer = new ProgressRenderer();
  const selection = await selectBackend({
    backend: values.backend as BackendName | undefined,
    onEvent: renderer.listener,
  });
  const all = await loadCifar10(folder);
  const set = takeImages(
    values.split === 'train' ? all.train : all.test,
    integerFlag('attack', 'images', values.images, 256),
  );
  const model = /^[a-z]+:\/\//i.test(values.model)
    ? await (await import('@moco-robust/models')).loadModel(values.model)
    : await loadModelFrom(source!, 'classifier');
  const forward = toForward(model);
  const rng = Rng.fromSeed(integerFlag('attack', 'seed', values.seed, 0));
  const adversarial = new Uint8Array(set.images.length);
  let cleanCorrect = 0;
  let adversarialCorrect = 0;
  const started = performance.now();
  for (let start = 0; start < set.count; start += batchSize) {
    const size = Math.min(batchSize, set.count - start);
    const x = sliceImages(set, start, size);
    const y = sliceLabels(set, start, size);
    let xAdv: tf.Tensor4D;
    if (values.attack === 'fgsm') xAdv = fgsm(model, x, y, { epsilon });
    else if (values.attack === 'pgd')
      xAdv = supervisedPgd(model, x, y, { epsilon, stepSize, steps, rng: rng.fork(`batch/${start}`) });
    else {
      const positives = tf.tidy(() => forward(x));
      xAdv = instancePgd({ embed: model, positives }, x, { epsilon, stepSize, steps, rng: rng.fork(`batch/${start}`) });
      positives.dispose();
    }
    const [bytes, cleanPredictions, adversarialPredictions] = tf.tidy(() => [
      tf.cast(tf.round(tf.mul(xAdv, 255)), 'int32'),
      tf.cast(tf.argMax(forward(x), 1), 'int32'),
      tf.cast(tf.argMax(forward(xAdv), 1), 'int32'),
    ]);
    adversarial.set(Uint8Array.from(await bytes.data()), start * 3072);
    const [p, q] = [await cleanPredictions.data(), await adversarialPredictions.data()];
    for (let i = 0; i < size; i++) {
      if (p[i] === set.labels[start + i]) cleanCorrect++;
      if (q[i] === set.labels[start + i]) adversarialCorrect++;
    }
    tf.dispose([x, y, xAdv, bytes, cleanPredictions, adversarialPredictions]);
    renderer.listener({ type: 'eval-progress', done: start + size, total: set.count, attack: values.attack! });
  }
  renderer.finishLine();
  const labelled = values.attack !== 'instance';
  const result = {
    model: values.model,
    backend: selection.name,
    attack:
      values.attack === 'fgsm'
        ? `FGSM ε=${values.epsilon}`
        : `${values.attack === 'pgd' ? 'PGD' : 'instance-wise PGD (label-free)'}-${steps} ` +
          `ε=${values.epsilon} α=${values['step-size']}`,
    images: set.count,
    cleanAccuracy: labelled ? cleanCorrect / set.count : undefined,
    adversarialAccuracy: labelled ? adversarialCorrect / set.count : undefined,
    seconds: (performance.now() - started) / 1000,
  };
  await atomicWriteFile(
    join(out, 'adversarial.npy'),
    writeNpy({ dtype: 'uint8', shape: [set.count, 32, 32, 3], data: adversarial }),
  );
  await atomicWriteFile(join(out, 'labels.npy'), writeNpy({ dtype: 'uint8', shape: [set.count], data: set.labels }));
  await atomicWriteFile(
    join(out, 'grid.png'),
    encodePng(...gridImage(set.images, adversarial, Math.min(8, set.count), epsilon)),
  );
  await atomicWriteFile(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ out, ...result })}\n`);
  else
    process.stdout.write(
      `\n${result.attack} on ${set.count} images${labelled ? `: accuracy ${accuracies(result)}` : ''}\n` +
        `Wrote ${out}/adversarial.npy, labels.npy, grid.png, result.json\n`,
    );
  return 0;
}

/**
 * Three rows of `count` images, 2× enlarged, 2-pixel gaps: clean, adversarial, and the perturbation scaled from ±ε
 * to
 * 0–255.
 */
function gridImage(
  clean: Uint8Array,
  adversarial: Uint8Array,
  count: number,
  epsilon: number,
): [Uint8Array, number, number] {
  const scale = 2;
  const cell = 32 * scale + 2;
  const width = count * cell;
  const height = 3 * cell;
  const rgb = new Uint8Array(height * width * 3).fill(255);
  for (let row = 0; row < 3; row++) {
    for (let n = 0; n < count; n++) {
      for (let y = 0; y < 32 * scale; y++) {
        for (let x = 0; x < 32 * scale; x++) {
          for (let c = 0; c < 3; c++) {
            const i = n * 3072 + (Math.floor(y / scale) * 32 + Math.floor(x / scale)) * 3 + c;
            const value =
              row === 0
                ? clean[i]
                : row === 1
                  ? adversarial[i]
                  : Math.max(
                      0,
                      Math.min(
                        255,
                        Math.round(127.5 + ((adversarial[i] - clean[i]) / 255 / Math.max(epsilon, 1e-6)) * 127.5),
                      ),
                    );
            rgb[((row * cell + y) * width + n * cell + x) * 3 + c] = value;
          }
        }
      }
    }
  }
  return [rgb, height, width];
}

/** `clean → adversarial` accuracies in percent, for the summary line. */
function accuracies(result: { cleanAccuracy?: number; adversarialAccuracy?: number }): string {
  const percent = (value: number | undefined) => `${(100 * (value ?? Number.NaN)).toFixed(2)}%`;
  return `${percent(result.cleanAccuracy)} clean → ${percent(result.adversarialAccuracy)} adversarial`;
}
