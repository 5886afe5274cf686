import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { atomicWriteFile, DataFormatError, Rng, selectBackend, type BackendName } from '@moco-robust/core';
import { ATTACK_DEFAULTS, fgsm, instancePgd, supervisedPgd, toForward } from '@moco-robust/attacks';
import { findCifar10, loadCifar10, sliceImages, sliceLabels, takeImages, writeNpy } from '@moco-robust/data';
import { encodePng, fraction255 } from '@moco-robust/eval';
import { helpText, integerFlag, parseFlags, type FlagSpec } from '../parse-flags';
import { ProgressRenderer } from '../progress';
import { checkModel } from '../run/check-model';
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
    default: fraction255(ATTACK_DEFAULTS.epsilon),
  },
  'step-size': {
    type: 'string',
    description: 'PGD step (a fraction of 255 or a number)',
    default: fraction255(ATTACK_DEFAULTS.stepSize),
  },
  steps: { type: 'string', description: 'PGD steps', default: String(ATTACK_DEFAULTS.steps) },
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
  'Crafts adversarial examples against a tfjs model (or, label-free, against an encoder with MoCo-PGD / MoCo-FGSM) ' +
  'and writes ' +
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
  const moco = values.attack === 'moco-pgd' || values.attack === 'moco-fgsm';
  if (moco && !values.encoder)
    throw new UsageError(`attack: --attack ${values.attack} needs --encoder <pretrain run | checkpoint | model.json>`);
  if (!moco && values.encoder)
    throw new UsageError(`attack: --encoder is for --attack moco-pgd | moco-fgsm; got --attack ${values.attack}`);
  if (!moco && !values.model) throw new UsageError('attack: --model <model.json | folder | URL | run> is required');
  if (!values.out) throw new UsageError('attack: --out <folder> is required');
  const epsilon = parseFraction('attack', 'epsilon', values.epsilon!);
  const stepSize = parseFraction('attack', 'step-size', values['step-size']!);
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
  const forward = model ? toForward(model) : undefined;
  const encoder = encoderSource ? await loadModelFrom(encoderSource, 'encoder') : undefined;
  const label = moco ? await mocoLabelFree(encoder!, all.train, values, temperature) : undefined;
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
    const batchRng = rng.fork(`batch/${start}`);
    if (label) xAdv = label.craft(x, { epsilon, stepSize, steps, rng: batchRng });
    else if (values.attack === 'fgsm') xAdv = fgsm(model!, x, y, { epsilon });
    else if (values.attack === 'pgd') xAdv = supervisedPgd(model!, x, y, { epsilon, stepSize, steps, rng: batchRng });
    else {
      const positives = tf.tidy(() => forward!(x));
      xAdv = instancePgd({ embed: model!, positives }, x, { epsilon, stepSize, steps, rng: batchRng });
      positives.dispose();
    }
    const bytes = tf.tidy(() => tf.cast(tf.round(tf.mul(xAdv, 255)), 'int32'));
    adversarial.set(Uint8Array.from(await bytes.data()), start * 3072);
    if (label) await label.measure(x, xAdv);
    if (forward) {
      const [cleanPredictions, adversarialPredictions] = tf.tidy(() => [
        tf.cast(tf.argMax(forward(x), 1), 'int32'),
        tf.cast(tf.argMax(forward(xAdv), 1), 'int32'),
      ]);
      const [p, q] = [await cleanPredictions.data(), await adversarialPredictions.data()];
      for (let i = 0; i < size; i++) {
        if (p[i] === set.labels[start + i]) cleanCorrect++;
        if (q[i] === set.labels[start + i]) adversarialCorrect++;
      }
      tf.dispose([cleanPredictions, adversarialPredictions]);
    }
    tf.dispose([x, y, xAdv, bytes]);
    renderer.listener({ type: 'eval-progress', done: start + size, total: set.count, attack: values.attack! });
  }
  renderer.finishLine();
  label?.dispose();
  const labelled = values.attack !== 'instance' && model !== undefined;
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
    cleanAccuracy: labelled ? cleanCorrect / set.count : undefined,
    adversarialAccuracy: labelled ? adversarialCorrect / set.count : undefined,
    representation: label?.summary(set.count),
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
 * The paper's label-free attack on an encoder: the first `--negatives` training images, encoded once, are the queue;
 * each batch's clean embeddings are its keys (`mocoObjective`). Measures how far the representation moved: the mean
 * cosine similarity of each adversarial embedding to its clean one and the MoCo loss before and after.
 */
async function mocoLabelFree(
  encoder: import('@tensorflow/tfjs-layers').LayersModel,
  train: import('@moco-robust/data').LabelledImageSet,
  values: { attack?: string; negatives?: string; 'batch-size'?: string },
  temperature: number,
) {
  const { mocoFgsm, mocoPgd, mocoLoss } = await import('@moco-robust/attacks');
  const { mocoObjective } = await import('@moco-robust/moco');
  const negativeSet = takeImages(train, Math.max(1, integerFlag('attack', 'negatives', values.negatives, 256)));
  const negatives = sliceImages(negativeSet, 0, negativeSet.count);
  const first = sliceImages(negativeSet, 0, 1);
  const built = mocoObjective(first, { encoder, negatives, temperature });
  const queue = built.queue; // [K, d]: the negatives' normalised embeddings, owned here
  tf.dispose([negatives, first, built.keys]);
  const totals = { cosine: 0, cleanLoss: 0, adversarialLoss: 0 };
  return {
    craft(x: tf.Tensor4D, options: { epsilon: number; stepSize: number; steps: number; rng: Rng }): tf.Tensor4D {
      const objective = mocoObjective(x, { encoder, negatives: queue, temperature });
      try {
        return values.attack === 'moco-fgsm'
          ? mocoFgsm(objective, x, { epsilon: options.epsilon })
          : mocoPgd(objective, x, options);
      } finally {
        objective.dispose();
      }
    },
    async measure(x: tf.Tensor4D, xAdv: tf.Tensor4D): Promise<void> {
      const objective = mocoObjective(x, { encoder, negatives: queue, temperature });
      const [cosine, cleanLoss, adversarialLoss] = tf.tidy(() => {
        const adversarialEmbedding = encoder.apply(xAdv, { training: false }) as tf.Tensor2D; // [N, d]
        const unit = tf.div(adversarialEmbedding, tf.norm(adversarialEmbedding, 'euclidean', 1, true));
        const loss = mocoLoss(objective);
        return [tf.sum(tf.mul(unit, objective.keys)), tf.sum(loss(x)), tf.sum(loss(xAdv))];
      });
      totals.cosine += (await cosine.data())[0];
      totals.cleanLoss += (await cleanLoss.data())[0];
      totals.adversarialLoss += (await adversarialLoss.data())[0];
      tf.dispose([cosine, cleanLoss, adversarialLoss]);
      objective.dispose();
    },
    summary(count: number) {
      return {
        cosineSimilarity: totals.cosine / count,
        cleanLoss: totals.cleanLoss / count,
        adversarialLoss: totals.adversarialLoss / count,
        negatives: queue.shape[0],
        temperature,
      };
    },
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
