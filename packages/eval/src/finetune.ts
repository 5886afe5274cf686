import * as tf from '@tensorflow/tfjs-core';
import {
  assertGradientsRegistered,
  constantSchedule,
  cosineSchedule,
  crossEntropy,
  emit,
  InvalidArgumentError,
  modelFiles,
  optimizerFiles,
  restoreModelWeights,
  restoreOptimizer,
  Rng,
  Sgd,
  stepSchedule,
  trainingLoop,
  type CheckpointFiles,
  type RunOptions,
  type StoredCheckpoint,
  type TrainingLoopEvent,
} from '@moco-robust/core';
import { pgd, STANDARD_STEP_SIZE, supervisedPgd } from '@moco-robust/attacks';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkLabelValues } from '@moco-robust/attacks';
import { composeClassifier, finetuneVariables, type Classifier } from './classifier';
import { checkModelInput } from './check-model-data';
import { evaluateRobustness } from './evaluate-robustness';
import { resolveFinetuneConfig, type FinetuneConfig } from './finetune-config';
import {
  assertImageSet,
  epochOrder,
  randomCropFlip,
  sliceImages,
  splitValidation,
  subsetImages,
  type LabelledImageSet,
} from '@moco-robust/data';

/** Events of {@link finetune}. */
export type FinetuneEvent =
  | { type: 'finetune-start'; totalSteps: number; startStep: number; config: FinetuneConfig; resumedFrom?: string }
  | TrainingLoopEvent
  | {
      type: 'epoch-end';
      epoch: number;
      loss: number;
      validation?: { clean: number; robust?: number };
      best: boolean;
      numTensors: number;
    }
  | { type: 'finetune-end'; steps: number; bestEpoch: number; seconds: number };

/** Options of {@link finetune}. */
export interface FinetuneOptions extends RunOptions<FinetuneEvent> {
  /**
   * The pre-trained encoder (a tfjs `LayersModel` images → features; `undefined` weights = random init: the `none`
   * baseline).
   */
  encoder: tfl.LayersModel;
  /** Labelled training images. */
  train: LabelledImageSet;
  config?: Parameters<typeof resolveFinetuneConfig>[0];
  /** Base preset the overrides apply to; default the community protocol. */
  base?: FinetuneConfig;
  /** Classes of the new head; default 10. */
  numClasses?: number;
}

/** What {@link finetune} returns: the classifier (best validation weights restored) and its history. */
export interface FinetuneResult {
  classifier: Classifier;
  bestEpoch: number;
  history: Array<{ epoch: number; loss: number; validation?: { clean: number; robust?: number } }>;
  checkpoint?: string;
}

/**
 * Fine-tunes a pre-trained encoder with a new classifier head — linear, partial or full; standard,
 * adversarial (Madry PGD-k), the paper's mixed clean + adversarial loss, or TRADES — with SGD
 * (momentum, coupled weight decay, step/cosine schedule), model selection on a held-out validation
 * split, checkpoints and exact resume.
 */
export async function finetune(options: FinetuneOptions): Promise<FinetuneResult> {
  assertImageSet(options.train, 'train', { labelled: true });
  assertGradientsRegistered('finetune');
  const numClasses = options.numClasses ?? 10;
  checkModelInput(options.encoder, options.train, 'encoder');
  checkLabelValues(options.train.labels, numClasses, 'train.labels');
  const config = resolveFinetuneConfig(options.config, options.base);
  const rng = Rng.fromSeed(config.seed);
  const classifier = composeClassifier(options.encoder, numClasses, rng.fork('head'));
  const { train, validation } = splitValidation(options.train, config.validationSize, config.seed);
  const stepsPerEpoch = Math.floor(train.count / config.batchSize);
  if (stepsPerEpoch < 1)
    throw new InvalidArgumentError({
      argument: 'train',
      expected: `at least one batch of ${config.batchSize} images after the ${config.validationSize} held out`,
      received: `${train.count} images`,
    });
  const totalSteps = stepsPerEpoch * config.epochs;
  const variables = finetuneVariables(classifier, config.mode, config.frozenStages);
  const sgd = new Sgd({
    learningRate: config.optimizer.learningRate,
    momentum: config.optimizer.momentum,
    weightDecay: config.optimizer.weightDecay,
  });
  const o = config.optimizer;
  const schedule =
    o.schedule === 'step'
      ? stepSchedule({ baseLr: o.learningRate, milestones: o.milestones })
      : o.schedule === 'cosine'
        ? cosineSchedule({ baseLr: o.learningRate, total: config.epochs })
        : constantSchedule(o.learningRate);
  const forwardTrain = (x: tf.Tensor4D) =>
    (config.mode === 'linear'
      ? classifier.head.apply(classifier.encoder.apply(x, { training: false }) as tf.Tensor, { training: true })
      : classifier.model.apply(x, { training: true })) as tf.Tensor2D;

  let best = { epoch: -1, score: -Infinity, weights: undefined as tf.Tensor[] | undefined };
  const history: FinetuneResult['history'] = [];
  const restore = async (latest: StoredCheckpoint) => {
    await restoreModelWeights(classifier.model, latest, 'classifier');
    await restoreOptimizer(sgd, variables, latest);
    const state = JSON.parse(await latest.readText('state.json'));
    history.push(...state.history);
    best = { epoch: state.best.epoch, score: state.best.score ?? -Infinity, weights: undefined };
    if (state.best.epoch >= 0) {
      // load the best weights through the model, keep a copy, then put the current weights back
      const current = classifier.model.getWeights().map((w) => tf.clone(w));
      await restoreModelWeights(classifier.model, latest, 'best');
      best.weights = classifier.model.getWeights().map((w) => tf.clone(w));
      classifier.model.setWeights(current);
      tf.dispose(current);
    }
  };
  const files = async (step: number) => {
    const files: CheckpointFiles = {
      ...(await modelFiles(classifier.model, 'classifier')),
      ...optimizerFiles(sgd, variables),
    };
    if (best.weights) {
      const current = classifier.model.getWeights().map((w) => tf.clone(w));
      classifier.model.setWeights(best.weights);
      Object.assign(files, await modelFiles(classifier.model, 'best'));
      classifier.model.setWeights(current);
      tf.dispose(current);
    }
    files['state.json'] = JSON.stringify({
      step,
      history,
      best: { epoch: best.epoch, score: Number.isFinite(best.score) ? best.score : null },
    });
    files['config.json'] = JSON.stringify({ ...options.metadata, finetune: config }, null, 2);
    return files;
  };

  const started = performance.now();
  let result: Awaited<ReturnType<typeof trainingLoop>>;
  try {
    result = await trainingLoop({
      name: 'Fine-tuning',
      totalSteps,
      stepsPerEpoch,
      batchSize: config.batchSize,
      logEvery: config.logEvery,
      checkpoint: {
        everySteps: config.checkpointEverySteps ?? 0,
        everyEpochs: config.checkpointEveryEpochs,
        keep: config.checkpointKeep,
      },
      store: options.store,
      resume: options.resume,
      signal: options.signal,
      onEvent: options.onEvent,
      restore,
      files,
      meta: (step) => ({ epoch: Math.floor(step / stepsPerEpoch), kind: 'finetune' }),
      learningRate: (epoch) => {
        sgd.setLearningRate(schedule(epoch));
        return sgd.learningRate;
      },
      trainStep: (step, epoch, indexInEpoch) => {
        const stepRng = rng.fork(`step/${step}`);
        const batch = trainingBatch(train, config.seed, epoch, indexInEpoch, config.batchSize);
        const x = config.augment ? randomCropFlip(batch.x, stepRng.fork('augment')) : batch.x;
        if (x !== batch.x) batch.x.dispose();
        const adversarial = craft(config, classifier, x, batch.y, stepRng);
        const { value, grads } = tf.variableGrads(
          () => lossOf(config, forwardTrain, x, adversarial, batch.y),
          variables,
        );
        sgd.step(variables, grads);
        tf.dispose([grads, x, batch.y]);
        adversarial?.dispose();
        return value;
      },
      onEpochEnd: (epoch, loss) => {
        const score = validation ? validate(config, classifier, validation) : undefined;
        const selectionScore = score ? (score.robust ?? score.clean) : -loss;
        const improved = selectionScore > best.score;
        if (improved) {
          tf.dispose(best.weights ?? []);
          best = { epoch, score: selectionScore, weights: classifier.model.getWeights().map((w) => tf.clone(w)) };
        }
        history.push({ epoch, loss, validation: score });
        emit(options.onEvent, {
          type: 'epoch-end',
          epoch,
          loss,
          validation: score,
          best: improved,
          numTensors: tf.memory().numTensors,
        });
      },
      weights: () => variables,
      onStart: (startStep, resumedFrom) =>
        emit(options.onEvent, { type: 'finetune-start', totalSteps, startStep, config, resumedFrom }),
    });
  } catch (error) {
    tf.dispose(best.weights ?? []);
    throw error;
  } finally {
    sgd.dispose();
  }
  if (best.weights) {
    classifier.model.setWeights(best.weights);
    tf.dispose(best.weights);
  }
  emit(options.onEvent, {
    type: 'finetune-end',
    steps: result.steps,
    bestEpoch: best.epoch,
    seconds: (performance.now() - started) / 1000,
  });
  return { classifier, bestEpoch: best.epoch, history, checkpoint: result.checkpoint };
}

function craft(
  config: FinetuneConfig,
  classifier: Classifier,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  rng: Rng,
): tf.Tensor4D | undefined {
  const attack = {
    epsilon: config.attack.epsilon,
    stepSize: config.attack.stepSize,
    steps: config.attack.steps,
    randomStart: true,
    rng: rng.fork('attack'),
  };
  if (config.loss === 'standard') return undefined;
  if (config.loss !== 'trades') return supervisedPgd(classifier.model, x, y, attack);
  // TRADES: maximise KL(p(x) ‖ p(x')) around the clean prediction
  const clean = tf.tidy(() => tf.softmax(classifier.model.apply(x, { training: false }) as tf.Tensor2D));
  const adversarial = pgd(
    (xAdv) => klDivergence(clean, classifier.model.apply(xAdv, { training: false }) as tf.Tensor2D),
    x,
    attack,
  );
  clean.dispose();
  return adversarial;
}

function lossOf(
  config: FinetuneConfig,
  forward: (x: tf.Tensor4D) => tf.Tensor2D,
  x: tf.Tensor4D,
  adversarial: tf.Tensor4D | undefined,
  y: tf.Tensor1D,
): tf.Scalar {
  switch (config.loss) {
    case 'standard':
      return tf.mean(crossEntropy(forward(x), y)) as tf.Scalar;
    case 'adversarial':
      return tf.mean(crossEntropy(forward(adversarial!), y)) as tf.Scalar;
    case 'mixed':
      return tf.div(
        tf.add(tf.mean(crossEntropy(forward(x), y)), tf.mean(crossEntropy(forward(adversarial!), y))),
        2,
      ) as tf.Scalar;
    case 'trades': {
      const cleanLogits = forward(x);
      const kl = klDivergence(tf.softmax(cleanLogits), forward(adversarial!));
      return tf.add(tf.mean(crossEntropy(cleanLogits, y)), tf.mul(config.tradesBeta, tf.mean(kl))) as tf.Scalar;
    }
  }
}

/** Per-example KL(p ‖ softmax(logits)) [N]. */
function klDivergence(p: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(
    () => tf.sum(tf.mul(p, tf.sub(tf.log(tf.maximum(p, 1e-12)), tf.logSoftmax(logits))), 1) as tf.Tensor1D,
  );
}

function validate(
  config: FinetuneConfig,
  classifier: Classifier,
  validation: LabelledImageSet,
): { clean: number; robust?: number } {
  const adversarial = config.loss !== 'standard';
  const result = evaluateRobustness(classifier.model, validation, {
    attacks: adversarial ? ['clean', 'pgd'] : ['clean'],
    settings: {
      pgdEpsilon: config.attack.epsilon,
      pgdStepSize: Math.max(config.attack.epsilon / 4, STANDARD_STEP_SIZE),
      pgdSteps: config.validationPgdSteps,
      batchSize: 256,
      seed: config.seed,
    },
  });
  return { clean: result.clean.accuracy, robust: result.pgd?.accuracy };
}

/** Batch `index` of `epoch` (the order a pure function of seed and epoch; drop-last), as tensors. */
function trainingBatch(
  set: LabelledImageSet,
  seed: number,
  epoch: number,
  index: number,
  batchSize: number,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const batch = subsetImages(
    set,
    epochOrder(seed, epoch, set.count).subarray(index * batchSize, (index + 1) * batchSize),
  );
  return { x: sliceImages(batch, 0, batch.count), y: tf.tensor1d(batch.labels, 'int32') };
}
