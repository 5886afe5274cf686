import * as tf from '@tensorflow/tfjs-core';
import {
  describeValue,
  Rng,
  type ModelLike,
  type PretextBatch,
  type PretextContext,
  type PretextEncoder,
  type PretextHeads,
  type PretextTaskV1,
} from '@moco-robust/core';
import { DEFAULT_PRETRAIN_CONFIG } from '@moco-robust/moco';
import { createResnetEncoder } from '@moco-robust/models';
import { ConformanceError } from './conformance-error';
import { finiteRange, isTensor, maxAbsDifference, weightCount } from './tensor-checks';

/** Options of {@link checkPretextContract}. */
export interface CheckPretextContractOptions {
  /** The encoder the task is checked on; default a seeded ResNet-6 of width 8 (disposed afterwards). */
  encoder?: PretextEncoder;
  /** Clean images [N, 32, 32, 3] in [0, 1]; default 8 seeded uniform random images. */
  images?: tf.Tensor4D;
  /** Seed of the heads, the batches and the attack; default 1. */
  seed?: number;
  /** L∞ radius the task's `craft` must keep to, pixel units; default 8/255. */
  epsilon?: number;
}

/** What {@link checkPretextContract} measured. */
export interface PretextContractReport {
  name: string;
  combine: 'adversarial' | 'mean';
  /** Names of the heads `createHeads` made, and their weight tensors. */
  heads: Record<string, number>;
  /** Shape of the batch's `inputs`. */
  inputShape: number[];
  /** Mean of the per-example loss of the batch. */
  meanLoss: number;
  /** Which optional parts the task has. */
  optional: { craft: boolean; trainingLoss: boolean; afterStep: boolean; tensors: boolean; dispose: boolean };
  /** Size of `JSON.stringify(state())`. */
  stateBytes: number;
}

const CHECK = 'checkPretextContract';
function fail(part: string, expected: string, received: unknown, hint?: string): never {
  throw new ConformanceError({ check: `${CHECK}: ${part}`, expected, received, hint });
}

/**
 * Checks that `task` implements `PretextTaskV1` as the pre-training engine of `@moco-robust/moco`
 * uses it: the fields and functions; heads that are tfjs models; `makeBatch` inputs NHWC in [0, 1],
 * tensor targets, the same batch from the same seed; a per-example loss [N], finite and
 * differentiable in the inputs and in the encoder and head weights; `craft` (if any) inside the ε-ball
 * and [0, 1]; `trainingLoss` (if any) a finite scalar; a JSON `state()` that `loadState` restores; and
 * a whole step (batch, attack, loss, `afterStep`) that leaks no tensor. Throws a
 * {@link ConformanceError} naming the first part that fails; returns what it measured.
 */
export function checkPretextContract(
  task: PretextTaskV1,
  options: CheckPretextContractOptions = {},
): PretextContractReport {
  checkShape(task);
  const seed = options.seed ?? 1;
  const epsilon = options.epsilon ?? 8 / 255;
  const ownEncoder =
    options.encoder === undefined ? createResnetEncoder({ architecture: 'resnet6-w8', rng: seed }) : undefined;
  const encoder = options.encoder ?? ownEncoder!;
  const images = options.images ?? (tf.randomUniform([8, 32, 32, 3], 0, 1, 'float32', seed) as tf.Tensor4D);
  let heads: PretextHeads = {};
  try {
    heads = task.createHeads(encoder, Rng.fromSeed(seed).fork('heads'));
    checkHeads(heads);
    const context: PretextContext = {
      encoder,
      heads,
      training: true,
      rng: Rng.fromSeed(seed).fork('context'),
      step: 0,
    };
    const batchOf = () => task.makeBatch(images, Rng.fromSeed(seed).fork('batch'), context);
    const batch = batchOf();
    let meanLoss: number;
    try {
      checkBatch(batch, images);
      checkSeeded(batch, batchOf);
      meanLoss = checkLoss(task, context, batch);
      checkGradients(task, context, batch, encoder, heads);
      if (task.craft) checkCraft(task, context, batch, epsilon, seed);
      if (task.trainingLoss) checkTrainingLoss(task, context, batch);
    } finally {
      disposeBatch(batch);
    }
    checkNoLeak(task, context, batchOf, seed);
    const stateBytes = checkState(task);
    return {
      name: task.name,
      combine: task.combine,
      heads: Object.fromEntries(Object.entries(heads).map(([name, head]) => [name, weightCount(head)])),
      inputShape: batch.inputs.shape,
      meanLoss,
      optional: {
        craft: !!task.craft,
        trainingLoss: !!task.trainingLoss,
        afterStep: !!task.afterStep,
        tensors: !!task.tensors,
        dispose: !!task.dispose,
      },
      stateBytes,
    };
  } finally {
    for (const head of Object.values(heads)) (head as Partial<{ dispose(): void }>).dispose?.();
    ownEncoder?.model.dispose();
    if (options.images === undefined) images.dispose();
  }
}

function checkShape(task: PretextTaskV1): void {
  if (typeof task !== 'object' || task === null)
    fail('task', 'a PretextTaskV1 object (a plugin’s default export is a factory: call it)', describeValue(task));
  if (task.specificationVersion !== 'v1')
    fail('specificationVersion', "'v1'", describeValue(task.specificationVersion));
  if (typeof task.name !== 'string' || task.name.length === 0)
    fail('name', 'a non-empty string (the CLI’s --method)', describeValue(task.name));
  if (task.combine !== 'adversarial' && task.combine !== 'mean')
    fail('combine', "'adversarial' or 'mean'", describeValue(task.combine));
  for (const name of ['createHeads', 'makeBatch', 'loss', 'state', 'loadState'] as const) {
    if (typeof task[name] !== 'function') fail(name, 'a function', describeValue(task[name]));
  }
  for (const name of ['craft', 'trainingLoss', 'afterStep', 'models', 'tensors', 'loadTensors', 'dispose'] as const) {
    if (task[name] !== undefined && typeof task[name] !== 'function')
      fail(name, 'a function or undefined', describeValue(task[name]));
  }
  if ((task.tensors === undefined) !== (task.loadTensors === undefined))
    fail(
      'tensors / loadTensors',
      'both or neither (a checkpoint saves what tensors() returns and restores it through loadTensors)',
      task.tensors ? 'only tensors' : 'only loadTensors',
    );
}

function checkHeads(heads: PretextHeads): void {
  if (typeof heads !== 'object' || heads === null)
    fail('createHeads', 'a record of models by name ({} when the task has none)', heads);
  for (const [name, head] of Object.entries(heads)) {
    const model = head as Partial<ModelLike>;
    if (
      typeof model?.apply !== 'function' ||
      !Array.isArray(model.trainableWeights) ||
      typeof model.getWeights !== 'function' ||
      typeof model.setWeights !== 'function'
    ) {
      fail(
        `createHeads → heads.${name}`,
        'a tfjs LayersModel (apply, trainableWeights, getWeights, setWeights: the engine trains and checkpoints it)',
        head,
      );
    }
  }
}

function checkBatch(batch: PretextBatch, images: tf.Tensor4D): void {
  if (images.isDisposed)
    fail('makeBatch', 'the clean images left undisposed (the engine owns them)', 'they were disposed');
  if (typeof batch !== 'object' || batch === null) fail('makeBatch', 'a batch {inputs, targets}', batch);
  const { inputs, targets } = batch;
  if (!isTensor(inputs) || inputs.rank !== 4 || inputs.shape[3] !== 3 || inputs.dtype !== 'float32')
    fail('makeBatch → inputs', 'a float32 tensor [N, H, W, 3] (what the attack perturbs)', inputs);
  const [min, max] = finiteRange(inputs);
  if (!(min >= 0 && max <= 1))
    fail(
      'makeBatch → inputs',
      'pixel values in [0, 1] (normalisation belongs inside the model, so ε is in pixel units)',
      `values in [${min}, ${max}]`,
    );
  if (typeof targets !== 'object' || targets === null)
    fail('makeBatch → targets', 'a record of tensors ({} when there are none)', targets);
  for (const [name, value] of Object.entries(targets)) {
    if (!isTensor(value))
      fail(`makeBatch → targets.${name}`, 'a tensor (the engine disposes the targets after the step)', value);
    if (value === (inputs as tf.Tensor) || value === (images as tf.Tensor))
      fail(
        `makeBatch → targets.${name}`,
        'a tensor of its own (the engine disposes inputs and targets separately)',
        'the same tensor as the inputs or the images',
      );
  }
}

function checkSeeded(batch: PretextBatch, batchOf: () => PretextBatch): void {
  const again = batchOf();
  try {
    const difference = maxAbsDifference(batch.inputs, again.inputs);
    if (difference !== 0)
      fail(
        'makeBatch',
        'the same inputs from the same seed (every random draw must come from the rng argument)',
        `inputs differing by up to ${difference}`,
      );
    for (const name of Object.keys(batch.targets)) {
      const other = again.targets[name];
      if (!isTensor(other) || maxAbsDifference(batch.targets[name], other) !== 0)
        fail(`makeBatch → targets.${name}`, 'the same targets from the same seed', 'different targets');
    }
  } finally {
    disposeBatch(again);
  }
}

function checkLoss(task: PretextTaskV1, context: PretextContext, batch: PretextBatch): number {
  const n = batch.inputs.shape[0];
  const loss = task.loss(context, batch.inputs, batch.targets);
  try {
    if (!isTensor(loss) || loss.rank !== 1 || loss.shape[0] !== n)
      fail(
        'loss',
        `per-example losses [${n}] (the attack keeps the worst restart per example; the engine takes the mean)`,
        loss,
      );
    const [min, max] = finiteRange(loss);
    if (!Number.isFinite(min) || !Number.isFinite(max)) fail('loss', 'finite values', `values in [${min}, ${max}]`);
    return tf.tidy(() => tf.mean(loss).dataSync()[0]);
  } finally {
    if (isTensor(loss)) loss.dispose();
  }
}

function checkGradients(
  task: PretextTaskV1,
  context: PretextContext,
  batch: PretextBatch,
  encoder: PretextEncoder,
  heads: PretextHeads,
): void {
  const expected = 'a gradient in the inputs that is finite and not all zero (the engine’s PGD ascends it)';
  const hint = 'Compute the loss from `inputs` with tfjs ops only (no dataSync, no host round trip).';
  let inputGradient: tf.Tensor;
  try {
    inputGradient = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => tf.sum(task.loss(context, x as tf.Tensor4D, batch.targets)))(batch.inputs),
    );
  } catch (error) {
    throw new ConformanceError({
      check: `${CHECK}: loss`,
      expected,
      received: `an error: ${(error as Error).message}`,
      hint,
      cause: error,
    });
  }
  try {
    const [min, max] = finiteRange(inputGradient);
    if (!Number.isFinite(min) || !Number.isFinite(max) || (min === 0 && max === 0))
      fail('loss', expected, `a gradient in [${min}, ${max}]`, hint);
  } finally {
    inputGradient.dispose();
  }
  const owners: Array<[string, ModelLike]> = [
    ['encoder', encoder.model],
    ...Object.entries(heads).map(([name, head]) => [`heads.${name}`, head] as [string, ModelLike]),
  ];
  const variables = owners.flatMap(([, model]) => model.trainableWeights.map((w) => w.read() as tf.Variable));
  const { value, grads } = tf.variableGrads(
    () => tf.mean(task.loss(context, batch.inputs, batch.targets)) as tf.Scalar,
    variables,
  );
  try {
    for (const [owner, model] of owners) {
      if (model.trainableWeights.length === 0) continue;
      const reached = model.trainableWeights.some((w) => {
        const g = grads[(w.read() as tf.Variable).name];
        return g !== undefined && tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0;
      });
      if (!reached)
        fail(
          'loss',
          `a gradient reaching the trainable weights of ${owner}`,
          'zero or no gradient for all of them',
          'Apply the model inside `loss` with the context’s encoder and heads.',
        );
    }
  } finally {
    value.dispose();
    tf.dispose(Object.values(grads));
  }
}

function checkCraft(
  task: PretextTaskV1,
  context: PretextContext,
  batch: PretextBatch,
  epsilon: number,
  seed: number,
): void {
  const settings = {
    epsilon,
    stepSize: epsilon / 4,
    steps: 2,
    randomStart: true,
    training: false,
    rng: Rng.fromSeed(seed).fork('attack'),
  };
  const adversarial = task.craft!({ ...context, training: false }, batch.inputs, batch.targets, settings);
  try {
    if (!isTensor(adversarial) || adversarial.shape.join() !== batch.inputs.shape.join())
      fail('craft', `adversarial inputs of the inputs' shape [${batch.inputs.shape}]`, adversarial);
    if (adversarial === (batch.inputs as tf.Tensor))
      fail(
        'craft',
        'a new tensor (the engine disposes the inputs and the adversarial inputs separately)',
        'the inputs themselves',
      );
    const [min, max] = finiteRange(adversarial);
    if (!(min >= 0 && max <= 1)) fail('craft', 'adversarial pixels in [0, 1]', `values in [${min}, ${max}]`);
    const distance = maxAbsDifference(adversarial, batch.inputs);
    if (distance > epsilon + 1e-5)
      fail(
        'craft',
        `adversarial inputs within the L∞ ball of radius ${epsilon.toFixed(5)} around the inputs`,
        `a distance of ${distance.toFixed(5)}`,
      );
  } finally {
    if (isTensor(adversarial)) adversarial.dispose();
  }
}

function checkTrainingLoss(task: PretextTaskV1, context: PretextContext, batch: PretextBatch): void {
  for (const adversarial of [batch.inputs, undefined]) {
    const value = task.trainingLoss!(context, batch.inputs, adversarial, batch.targets);
    try {
      if (!isTensor(value) || value.rank !== 0)
        fail(`trainingLoss (adversarial ${adversarial ? 'given' : 'undefined'})`, 'a scalar', value);
      const [v] = finiteRange(value);
      if (!Number.isFinite(v)) fail('trainingLoss', 'a finite value', v);
    } finally {
      if (isTensor(value)) value.dispose();
    }
  }
}

/**
 * Runs one whole step (batch, attack, loss, afterStep) twice and requires the second to leave the tensor count
 * unchanged.
 */
function checkNoLeak(task: PretextTaskV1, context: PretextContext, batchOf: () => PretextBatch, seed: number): void {
  const step = () => {
    const batch = batchOf();
    const settings = {
      // the pre-training defaults (the attacks' ATTACK_DEFAULTS: ε 8/255, step 2/255), one step
      epsilon: DEFAULT_PRETRAIN_CONFIG.attack.epsilon,
      stepSize: DEFAULT_PRETRAIN_CONFIG.attack.stepSize,
      steps: 1,
      randomStart: true,
      training: false,
      rng: Rng.fromSeed(seed).fork('attack'),
    };
    const adversarial = task.craft?.(context, batch.inputs, batch.targets, settings);
    const loss = task.trainingLoss
      ? task.trainingLoss(context, batch.inputs, adversarial, batch.targets)
      : task.loss(context, adversarial ?? batch.inputs, batch.targets);
    task.afterStep?.(context, batch);
    tf.dispose([loss, ...(adversarial ? [adversarial] : [])]);
    disposeBatch(batch);
  };
  step(); // a first step may create lasting tensors (caches, lazily built state)
  const before = tf.memory().numTensors;
  step();
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) {
    fail(
      'a step (makeBatch, craft, loss / trainingLoss, afterStep)',
      'no tensor left behind (wrap the body in tf.tidy; dispose carried state explicitly)',
      `${leaked} more tensor${leaked === 1 ? '' : 's'} after the step`,
    );
  }
}

function checkState(task: PretextTaskV1): number {
  const state = task.state();
  let text: string | undefined;
  try {
    text = JSON.stringify(state);
  } catch (error) {
    fail('state', 'a JSON value (it is saved as JSON with every checkpoint)', state, String(error));
  }
  if (text === undefined) fail('state', 'a JSON value (null when there is nothing to save)', state);
  try {
    task.loadState(JSON.parse(text!));
  } catch (error) {
    fail(
      'loadState',
      'to accept the task’s own state() after a JSON round trip',
      `an error: ${(error as Error).message}`,
    );
  }
  const again = JSON.stringify(task.state());
  if (again !== text) fail('state', 'the same state() after loadState(state()) through JSON', again ?? 'undefined');
  return text!.length;
}

function disposeBatch(batch: PretextBatch): void {
  tf.dispose([batch.inputs, ...Object.values(batch.targets ?? {})].filter(isTensor));
}
