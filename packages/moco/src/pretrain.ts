import * as tf from '@tensorflow/tfjs-core';
import {
  assertGradientsRegistered,
  constantSchedule,
  cosineSchedule,
  decodeTensorArchive,
  emit,
  InvalidArgumentError,
  encodeTensorArchive,
  Rng,
  Sgd,
  modelFiles,
  optimizerFiles,
  restoreOptimizer,
  restoreModelWeights,
  type CheckpointFiles,
  type SaveableModel,
  type RunOptions,
  type PretextAttackSettings,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
  type StoredCheckpoint,
  type TrainingLoopEvent,
  trainingLoop,
} from '@moco-robust/core';
import { pgd } from '@moco-robust/attacks';
import { assertImageSet, epochOrder, gatherImages, type ImageSet, type LabelledImageSet } from '@moco-robust/data';
import { encodeFeatures } from './encode-features';
import { knnAccuracy } from './knn';
import { resolvePretrainConfig, type PretrainConfig } from './pretrain-config';

/** Events of {@link pretrain}. */
export type PretrainEvent =
  | {
      type: 'pretrain-start';
      method: string;
      totalSteps: number;
      stepsPerEpoch: number;
      startStep: number;
      resumedFrom?: string;
      config: PretrainConfig;
    }
  | TrainingLoopEvent
  | { type: 'epoch-end'; epoch: number; loss: number; seconds: number; knnAccuracy?: number; numTensors: number }
  | { type: 'pretrain-end'; steps: number; loss: number; knnAccuracy?: number; seconds: number };

/** Options of {@link pretrain}. */
export interface PretrainOptions extends RunOptions<PretrainEvent> {
  /** The self-supervised task: the built-in `mocoTask(...)` or a plugin's `PretextTaskV1`. */
  task: PretextTaskV1;
  /** The encoder to pre-train (its `model` must be a tfjs `LayersModel`). */
  encoder: PretextEncoder & { model: SaveableModel };
  /** Training images (labels unused). */
  data: ImageSet;
  /** Labelled images for the kNN monitor: `bank` (un-augmented training images) and `test`. */
  knn?: { bank: LabelledImageSet; test: LabelledImageSet };
  /** Settings; missing fields take {@link DEFAULT_PRETRAIN_CONFIG}'s values. */
  config?: Parameters<typeof resolvePretrainConfig>[0];
}

/** What {@link pretrain} returns. */
export interface PretrainResult {
  steps: number;
  loss: number;
  knnAccuracy?: number;
  heads: PretextHeads;
  checkpoint?: string;
}

/**
 * Adversarial self-supervised pre-training (the paper's §3) for any {@link PretextTaskV1}: each step
 * builds the task's batch, crafts adversarial inputs (MoCo-PGD / MoCo-FGSM for MoCo; PGD on the
 * pretext loss for the plugins; the task's own attack when it has one), minimises the adversarial
 * (or mean clean + adversarial) loss with SGD (momentum, coupled weight decay, cosine schedule), then
 * lets the task update its state (MoCo: enqueue the keys). Checkpoints, resumes exactly, emits events.
 */
export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const { task, encoder, data, store } = options;
  assertImageSet(data, 'data');
  assertGradientsRegistered('pretrain');
  const config = resolvePretrainConfig(options.config);
  const stepsPerEpoch = Math.floor(data.count / config.batchSize);
  if (stepsPerEpoch < 1)
    throw new InvalidArgumentError({
      argument: 'data',
      expected: `at least one batch of ${config.batchSize} images`,
      received: `${data.count} images`,
    });
  const totalSteps = stepsPerEpoch * config.epochs;
  const baseRng = Rng.fromSeed(config.seed);
  const heads = task.createHeads(encoder, baseRng.fork('heads'));
  const models: Record<string, SaveableModel> = {
    encoder: encoder.model,
    ...prefixed('heads/', heads),
    ...((task.models?.() ?? {}) as Record<string, SaveableModel>),
  };
  const variables = [encoder.model, ...Object.values(heads)].flatMap((m) =>
    m.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  const sgd = new Sgd({
    learningRate: config.optimizer.learningRate,
    momentum: config.optimizer.momentum,
    weightDecay: config.optimizer.weightDecay,
  });
  const schedule =
    config.optimizer.schedule === 'cosine'
      ? cosineSchedule({
          baseLr: config.optimizer.learningRate,
          total: config.epochs,
          warmup: config.optimizer.warmupEpochs,
        })
      : constantSchedule(config.optimizer.learningRate);
  const combine = config.combine ?? task.combine;

  let lastKnn: number | undefined;
  let epochStart = performance.now();
  const started = performance.now();
  let result: Awaited<ReturnType<typeof trainingLoop>>;
  try {
    result = await trainingLoop({
      name: 'Pre-training',
      totalSteps,
      stepsPerEpoch,
      batchSize: config.batchSize,
      logEvery: config.logEvery,
      checkpoint: config.checkpoint,
      store,
      resume: options.resume,
      signal: options.signal,
      onEvent: options.onEvent,
      restore: async (latest) => {
        await restore(latest, { models, sgd, variables, task });
        lastKnn = typeof latest.meta.knnAccuracy === 'number' ? latest.meta.knnAccuracy : undefined;
      },
      files: (step) =>
        checkpointFiles({ models, sgd, variables, task, config, metadata: options.metadata, step, baseRng }),
      meta: (step) => ({ epoch: Math.floor(step / stepsPerEpoch), method: task.name, knnAccuracy: lastKnn }),
      learningRate: (epoch) => {
        sgd.setLearningRate(schedule(epoch));
        return sgd.learningRate;
      },
      trainStep: (step, epoch, indexInEpoch) => {
        const order = epochOrder(config.seed, epoch, data.count);
        const images = gatherImages(
          data,
          order.subarray(indexInEpoch * config.batchSize, (indexInEpoch + 1) * config.batchSize),
        );
        try {
          const rng = baseRng.fork(`step/${step}`);
          return trainStep({ task, encoder, heads, variables, sgd, config, combine, images, rng, step });
        } finally {
          images.dispose();
        }
      },
      onEpochEnd: (epoch, loss, step) => {
        const k = config.knn.everyEpochs;
        if (options.knn && k > 0 && ((epoch + 1) % k === 0 || step === totalSteps))
          lastKnn = monitorKnn(encoder, options.knn, config);
        emit(options.onEvent, {
          type: 'epoch-end',
          epoch,
          loss,
          seconds: (performance.now() - epochStart) / 1000,
          knnAccuracy: lastKnn,
          numTensors: tf.memory().numTensors,
        });
        epochStart = performance.now();
      },
      weights: () => variables,
      onStart: (startStep, resumedFrom) =>
        emit(options.onEvent, {
          type: 'pretrain-start',
          method: task.name,
          totalSteps,
          stepsPerEpoch,
          startStep,
          resumedFrom,
          config,
        }),
    });
  } finally {
    sgd.dispose();
  }
  emit(options.onEvent, {
    type: 'pretrain-end',
    steps: result.steps,
    loss: result.loss,
    knnAccuracy: lastKnn,
    seconds: (performance.now() - started) / 1000,
  });
  return { steps: result.steps, loss: result.loss, knnAccuracy: lastKnn, heads, checkpoint: result.checkpoint };
}

interface StepInputs {
  task: PretextTaskV1;
  encoder: PretextEncoder;
  heads: PretextHeads;
  variables: tf.Variable[];
  sgd: Sgd;
  config: PretrainConfig;
  combine: 'adversarial' | 'mean';
  images: tf.Tensor4D;
  rng: Rng;
  step: number;
}

/** One training step; returns the scalar training loss (the caller disposes it). */
function trainStep(s: StepInputs): tf.Scalar {
  const context: PretextContext = { encoder: s.encoder, heads: s.heads, training: true, rng: s.rng, step: s.step };
  const batch = s.task.makeBatch(s.images, s.rng.fork('batch'), context);
  let adversarial: tf.Tensor4D | undefined;
  try {
    adversarial = craft(s, context, batch.inputs, batch.targets);
    const { value, grads } = tf.variableGrads(
      () => trainingLoss(s, context, batch.inputs, adversarial, batch.targets),
      s.variables,
    );
    s.sgd.step(s.variables, grads);
    tf.dispose(grads);
    s.task.afterStep?.(context, batch);
    return value;
  } finally {
    tf.dispose([batch.inputs, ...Object.values(batch.targets)]);
    adversarial?.dispose();
  }
}

function craft(
  s: StepInputs,
  context: PretextContext,
  inputs: tf.Tensor4D,
  targets: Record<string, tf.Tensor>,
): tf.Tensor4D | undefined {
  const a = s.config.attack;
  if (a.kind === 'none') return undefined;
  const crafting: PretextContext = { ...context, training: a.batchNorm === 'train' };
  const settings: PretextAttackSettings = {
    epsilon: a.epsilon,
    stepSize: a.kind === 'fgsm' ? a.epsilon : a.stepSize,
    steps: a.kind === 'fgsm' ? 1 : a.steps,
    randomStart: a.kind === 'pgd',
    training: crafting.training,
    rng: s.rng.fork('attack'),
  };
  if (s.task.craft) return s.task.craft(crafting, inputs, targets, settings);
  return pgd((x) => s.task.loss(crafting, x, targets), inputs, { ...settings, rng: settings.rng });
}

function trainingLoss(
  s: StepInputs,
  context: PretextContext,
  inputs: tf.Tensor4D,
  adversarial: tf.Tensor4D | undefined,
  targets: Record<string, tf.Tensor>,
): tf.Scalar {
  if (s.task.trainingLoss) return s.task.trainingLoss(context, inputs, adversarial, targets);
  if (!adversarial) return tf.mean(s.task.loss(context, inputs, targets)) as tf.Scalar;
  const adversarialLoss = tf.mean(s.task.loss(context, adversarial, targets)) as tf.Scalar;
  if (s.combine === 'adversarial') return adversarialLoss;
  return tf.div(tf.add(tf.mean(s.task.loss(context, inputs, targets)), adversarialLoss), 2) as tf.Scalar;
}

function monitorKnn(
  encoder: PretextEncoder,
  knn: { bank: LabelledImageSet; test: LabelledImageSet },
  config: PretrainConfig,
): number {
  const bank = encodeFeatures(encoder.model, knn.bank);
  const test = encodeFeatures(encoder.model, knn.test);
  const bankLabels = tf.tensor1d(knn.bank.labels, 'int32');
  const testLabels = tf.tensor1d(knn.test.labels, 'int32');
  try {
    return knnAccuracy(bank, bankLabels, test, testLabels, { k: config.knn.k, temperature: config.knn.temperature });
  } finally {
    tf.dispose([bank, test, bankLabels, testLabels]);
  }
}

function prefixed(prefix: string, models: PretextHeads): Record<string, SaveableModel> {
  return Object.fromEntries(Object.entries(models).map(([name, m]) => [`${prefix}${name}`, m as SaveableModel]));
}

interface RunState {
  models: Record<string, SaveableModel>;
  sgd: Sgd;
  variables: tf.Variable[];
  task: PretextTaskV1;
}

async function checkpointFiles(
  r: RunState & { config: PretrainConfig; metadata?: Record<string, unknown>; step: number; baseRng: Rng },
): Promise<CheckpointFiles> {
  const files: CheckpointFiles = {};
  for (const [name, model] of Object.entries(r.models)) Object.assign(files, await modelFiles(model, name));
  Object.assign(files, optimizerFiles(r.sgd, r.variables));
  const taskTensors = r.task.tensors?.() ?? {};
  const tensorEntries = Object.entries(taskTensors).map(([name, t]) => ({
    name,
    shape: t.shape,
    dtype: t.dtype as 'float32' | 'int32',
    data: t.dataSync() as Float32Array | Int32Array,
  }));
  const tensorArchive = encodeTensorArchive(tensorEntries);
  for (const entry of tensorArchive.spec.tensors) {
    files[`${entry.name}.bin`] = tensorArchive.data.subarray(entry.byteOffset, entry.byteOffset + entry.length * 4);
  }
  files['rng.json'] = JSON.stringify(r.baseRng.state());
  files['config.json'] = JSON.stringify({ ...r.metadata, pretrain: r.config }, null, 2);
  files['state.json'] = JSON.stringify(
    {
      step: r.step,
      task: r.task.name,
      taskState: r.task.state(),
      taskTensors: tensorArchive.spec.tensors.map((t) => ({ ...t, byteOffset: 0 })),
    },
    null,
    2,
  );
  return files;
}

async function restore(checkpoint: StoredCheckpoint, r: RunState): Promise<number> {
  const state = JSON.parse(await checkpoint.readText('state.json'));
  for (const [name, model] of Object.entries(r.models)) await restoreModelWeights(model, checkpoint, name);
  await restoreOptimizer(r.sgd, r.variables, checkpoint);
  if (r.task.loadTensors && state.taskTensors.length > 0) {
    const tensors: Record<string, tf.Tensor> = {};
    for (const spec of state.taskTensors) {
      const [entry] = decodeTensorArchive(
        { format: 'moco-robust-tensors/v1', tensors: [spec] },
        await checkpoint.read(`${spec.name}.bin`),
        `${checkpoint.location}/${spec.name}.bin`,
      );
      tensors[spec.name] = tf.tensor(entry.data, entry.shape, entry.dtype);
    }
    r.task.loadTensors(tensors);
    tf.dispose(Object.values(tensors));
  }
  r.task.loadState(state.taskState);
  return state.step;
}
