import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { validateEpsilon, validateStepSize, type SettingCheck } from '@moco-robust/attacks';
import { atomicWriteFile, DataFormatError, MocoRobustError, selectBackend, type BackendName } from '@moco-robust/core';
import { findCifar10, loadCifar10, sliceImages, takeImages, writeNpy, type LabelledImageSet } from '@moco-robust/data';
import { attackImages, encodePng, type ImageAttackName } from '@moco-robust/eval';
import type { CommandInput } from '../command-table';
import type { ATTACK_FLAGS } from '../flags/attack-flags';
import { integerFlag } from '../parse-flags';
import { ProgressRenderer } from '../progress';
import { checkModel } from '../run/check-model';
import { loadModelFrom, resolveModelSource } from '../run/pipeline';
import { assertEmptyOutput } from '../run/run-dir';
import { UsageError } from '../usage-error';

/**
 * `8/255` → 0.0313…, a plain number as is, checked by the attacks library's validator of the setting
 * (`validateEpsilon`, `validateStepSize`); a bad value is a usage error naming the flag.
 */
export function parseFraction(
  command: string,
  name: string,
  text: string,
  validate: (value: unknown, check: SettingCheck) => number,
): number {
  const match = /^\s*([\d.]+)\s*\/\s*([\d.]+)\s*$/.exec(text);
  const value = match ? Number(match[1]) / Number(match[2]) : text.trim() === '' ? Number.NaN : Number(text);
  try {
    return validate(value, { argument: `--${name}` });
  } catch (error) {
    if (!MocoRobustError.isInstance(error)) throw error;
    throw new UsageError(`${command}: ${error.message} (a number or a fraction like 8/255; got '${text}')`);
  }
}

/** `moco-robust attack`. */
export async function handler({ values }: CommandInput<typeof ATTACK_FLAGS>): Promise<number> {
  const moco = values.attack === 'moco-pgd' || values.attack === 'moco-fgsm';
  if (moco && !values.encoder)
    throw new UsageError(`attack: --attack ${values.attack} needs --encoder <pretrain run | checkpoint | model.json>`);
  if (!moco && values.encoder)
    throw new UsageError(`attack: --encoder is for --attack moco-pgd | moco-fgsm; got --attack ${values.attack}`);
  if (!moco && !values.model) throw new UsageError('attack: --model <model.json | folder | URL | run> is required');
  if (!values.out) throw new UsageError('attack: --out <folder> is required');
  const epsilon = parseFraction('attack', 'epsilon', values.epsilon!, validateEpsilon);
  const stepSize = parseFraction('attack', 'step-size', values['step-size']!, validateStepSize);
  const steps = integerFlag('attack', 'steps', values.steps, 10);
  const batchSize = Math.max(1, integerFlag('attack', 'batch-size', values['batch-size'], 128));
  const imageCount = integerFlag('attack', 'images', values.images, 256);
  if (imageCount === 0) throw new UsageError(`attack: --images must be at least 1; got '${values.images}'`);
  const out = resolve(values.out);
  await assertEmptyOutput('attack', out);
  const folder = findCifar10(values.data);
  if (!folder)
    throw new UsageError('attack: no CIFAR-10 binary files found: pass --data <folder> or set MOCO_ROBUST_DATA');
  const temperature = Number(values.temperature);
  if (!(temperature > 0))
    throw new UsageError(`attack: --temperature must be a number > 0; got '${values.temperature}'`);
  const isUrl = (path: string | undefined) => path !== undefined && /^[a-z]+:\/\//i.test(path);
  const source =
    !values.model || isUrl(values.model) ? undefined : await resolveModelSource(values.model, 'classifier');
  const encoderSource = values.encoder ? await resolveModelSource(values.encoder, 'encoder') : undefined;
  const renderer = new ProgressRenderer();
  const selection = await selectBackend({
    backend: values.backend as BackendName | undefined,
    onEvent: renderer.listener,
  });
  const all = await loadCifar10(folder);
  const set = takeImages(values.split === 'train' ? all.train : all.test, imageCount);
  if (set.count === 0)
    throw new DataFormatError({
      path: join(folder, values.split === 'train' ? 'data_batch_*.bin' : 'test_batch.bin'),
      message: `holds no ${values.split} image (0 records); attack needs at least one`,
    });
  const model = !values.model
    ? undefined
    : isUrl(values.model)
      ? await (await import('@moco-robust/models')).loadModel(values.model)
      : await loadModelFrom(source!, 'classifier');
  if (model) {
    // instance is label-free on the model's output features: any output width; the others need a classifier
    const role = values.attack === 'instance' ? 'encoder' : 'classifier';
    checkModel(model, { role, source: values.model!, argument: '--model' });
  }
  const encoder = encoderSource ? await loadModelFrom(encoderSource, 'encoder') : undefined;
  const labelFree = encoder ? await mocoLabelFree(encoder, all.train, values.negatives, temperature) : undefined;
  const started = performance.now();
  let attacked: Awaited<ReturnType<typeof attackImages>>;
  try {
    attacked = await attackImages(set, {
      attack: values.attack as ImageAttackName,
      model,
      objective: labelFree?.objective,
      epsilon,
      stepSize,
      steps,
      batchSize,
      seed: integerFlag('attack', 'seed', values.seed, 0),
      onEvent: renderer.listener,
    });
  } finally {
    labelFree?.dispose();
  }
  renderer.finishLine();
  const labelled = attacked.cleanAccuracy !== undefined;
  const result = {
    model: values.model,
    encoder: values.encoder,
    backend: selection.name,
    attack:
      values.attack === 'fgsm'
        ? `FGSM ε=${values.epsilon}`
        : values.attack === 'moco-fgsm'
          ? `MoCo-FGSM (label-free) ε=${values.epsilon} T=${temperature}`
          : `${ATTACK_NAMES[values.attack!]}-${steps} ε=${values.epsilon} α=${values['step-size']}` +
            (moco ? ` T=${temperature}` : ''),
    images: set.count,
    cleanAccuracy: attacked.cleanAccuracy,
    adversarialAccuracy: attacked.adversarialAccuracy,
    representation: attacked.representation,
    seconds: (performance.now() - started) / 1000,
  };
  await atomicWriteFile(
    join(out, 'adversarial.npy'),
    writeNpy({ dtype: 'uint8', shape: [set.count, 32, 32, 3], data: attacked.adversarial }),
  );
  await atomicWriteFile(join(out, 'labels.npy'), writeNpy({ dtype: 'uint8', shape: [set.count], data: set.labels }));
  await atomicWriteFile(
    join(out, 'grid.png'),
    encodePng(...gridImage(set.images, attacked.adversarial, Math.min(8, set.count), epsilon)),
  );
  await atomicWriteFile(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ out, ...result })}\n`);
  else
    process.stdout.write(
      `\n${result.attack} on ${set.count} images${labelled ? `: accuracy ${accuracies(result)}` : ''}\n` +
        representationLine(result.representation) +
        `Wrote ${out}/adversarial.npy, labels.npy, grid.png, result.json\n`,
    );
  return 0;
}

/** How far the representation moved, for the summary ('' for a labelled attack). */
function representationLine(r: { cosineSimilarity: number; cleanLoss: number; adversarialLoss: number } | undefined) {
  if (!r) return '';
  const moved = `cosine similarity to the clean embedding ${r.cosineSimilarity.toFixed(4)}`;
  return `Representation: ${moved}, MoCo loss ${r.cleanLoss.toFixed(4)} → ${r.adversarialLoss.toFixed(4)}\n`;
}

const ATTACK_NAMES: Record<string, string> = {
  pgd: 'PGD',
  instance: 'instance-wise PGD (label-free)',
  'moco-pgd': 'MoCo-PGD (label-free)',
};

/**
 * The objective of the paper's label-free attacks on an encoder: the first `--negatives` training images, encoded
 * once, are the queue; each batch's clean embeddings are its keys (`mocoObjective`). `dispose()` frees the queue.
 */
async function mocoLabelFree(
  encoder: import('@tensorflow/tfjs-layers').LayersModel,
  train: LabelledImageSet,
  negativesFlag: string | undefined,
  temperature: number,
) {
  const { mocoObjective } = await import('@moco-robust/moco');
  const negativeSet = takeImages(train, Math.max(1, integerFlag('attack', 'negatives', negativesFlag, 256)));
  const negatives = sliceImages(negativeSet, 0, negativeSet.count);
  const first = sliceImages(negativeSet, 0, 1);
  const built = mocoObjective(first, { encoder, negatives, temperature });
  const queue = built.queue; // [K, d]: the negatives' normalised embeddings, owned here
  tf.dispose([negatives, first, built.keys]);
  return {
    objective: (x: tf.Tensor4D) => mocoObjective(x, { encoder, negatives: queue, temperature }),
    dispose: () => queue.dispose(),
  };
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
