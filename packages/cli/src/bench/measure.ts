// One backend's measurements, run in a child process of `moco-robust bench` (one process per backend).
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, Rng, selectBackend, Sgd, type BackendName } from '@moco-robust/core';
import { benchmarkConv2d, STANDARD_CONV_SHAPE } from '@moco-robust/core/bench';
import { fgsm, mocoPgd, STANDARD_STEP_SIZE, supervisedPgd } from '@moco-robust/attacks';
import { MOCO_V2_AUGMENTATION, twoViews } from '@moco-robust/data';
import {
  classifierHead,
  composeModels,
  createResnetEncoder,
  projectionHead,
  trainableVariables,
  type ResnetPreset,
} from '@moco-robust/models';
import { benchmarkResnet } from '@moco-robust/models/bench';
import { benchmarkPretrain } from '@moco-robust/moco/bench';

/** What one backend measured. */
export interface BackendMeasurement {
  backend: string;
  /** wasm: XNNPACK threads. */
  threads?: number;
  /** node: whose convolutions ran (`oneDNN 2.6.3`, or `TensorFlow (why)`). */
  convolution?: string;
  conv: Awaited<ReturnType<typeof benchmarkConv2d>>;
  resnet: Awaited<ReturnType<typeof benchmarkResnet>>;
  /**
   * images/s of the attacks and steps the PyTorch reference also runs (absent on the pure-JS cpu backend: minutes per
   * step).
   */
  workloads?: {
    architecture: string;
    batch: number;
    attackSteps: number;
    infer: number;
    fgsm: number;
    supPgd: number;
    mocoPgd: number;
    /** One adversarial fine-tuning step: supervised PGD-k + forward/backward + SGD. */
    supAdvStep: number;
    /** Whole MoCo-PGD-k pre-training steps of the engine (augmentation, attack, SGD, EMA, queue). */
    mocoAdvStep: number;
    /** Plain MoCo-v2 and MoCo-FGSM pre-training steps. */
    mocoStep: number;
    mocoFgsmStep: number;
  };
  /** Cost of reading a 2M-element float32 tensor back to JS (`dataSync`), ns per element (median of 5). */
  readNsPerElement: number;
  /** MoCo-v2 two-view augmentation of a batch, images/s. */
  augmentation: { batch: number; imagesPerSecond: number };
  numTensorsLeaked: number;
}

/** Median images/s of `run` (its result is read back, so the work is finished) after one warm-up. */
async function imagesPerSecond(batch: number, repeats: number, run: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const start = performance.now();
    const out = run();
    const outs = Array.isArray(out) ? out : [out];
    await Promise.all(outs.map((t) => t.data()));
    tf.dispose(outs);
    if (i > 0) times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return (batch * 1000) / times[Math.floor(times.length / 2)];
}

/**
 * The model, batch, attack steps and repeats of the ResNet and workload measurements on `backend` — one place, so the
 * whole suite and a `--rounds` round measure the same thing.
 */
function workloadShape(backend: BackendName, tiny: boolean, architectureFlag?: string) {
  const cpu = backend === 'cpu';
  return {
    architecture: (tiny ? 'resnet6-w8' : (architectureFlag ?? (cpu ? 'resnet8-w16' : 'resnet18'))) as ResnetPreset,
    batch: tiny ? 4 : cpu ? 8 : 32,
    steps: tiny ? 2 : 10,
    repeats: tiny ? 1 : 3,
  };
}

/** Measures everything on `backend` (tiny: small shapes that only prove the harness). */
export async function measureBackend(
  backend: BackendName,
  tiny: boolean,
  architectureFlag?: string,
): Promise<BackendMeasurement> {
  const { threads, convolution } = await selectBackend({ backend });
  const before = tf.memory().numTensors;
  const cpu = backend === 'cpu';
  const { architecture, batch, steps, repeats } = workloadShape(backend, tiny, architectureFlag);
  // GFLOP/s are per FLOP: the pure-JS cpu backend (≈1 GFLOP/s) measures batch 4
  const shape = tiny
    ? { batch: 2, size: 8, inChannels: 4, outChannels: 4, kernel: 3 }
    : cpu
      ? { ...STANDARD_CONV_SHAPE, batch: 4 }
      : STANDARD_CONV_SHAPE;
  const conv = await benchmarkConv2d(shape, tiny ? 2 : 5);
  const resnet = await benchmarkResnet({ architecture, batch, repeats });
  const workloads = cpu ? undefined : await measureWorkloads(architecture, batch, steps, repeats, false);
  const augmentBatch = tiny ? 8 : 128;
  const x = tf.randomUniform([augmentBatch, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const rng = Rng.fromSeed(7);
  const augmentation = {
    batch: augmentBatch,
    imagesPerSecond: await imagesPerSecond(augmentBatch, tiny ? 1 : 5, () => twoViews(x, MOCO_V2_AUGMENTATION, rng)),
  };
  x.dispose();
  const big = tf.randomNormal([tiny ? 1024 : 1 << 21]);
  const reads = Array.from({ length: 5 }, () => {
    const fresh = tf.mul(big, 1); // a new tensor each time: a backend may cache what it already read back
    fresh.dataSync(); // (the first read also waits for the multiply)
    const again = tf.add(fresh, 0);
    const start = performance.now();
    again.dataSync();
    const elapsed = performance.now() - start;
    tf.dispose([fresh, again]);
    return elapsed;
  }).sort((a, b) => a - b);
  const readNsPerElement = (reads[2] * 1e6) / big.size;
  big.dispose();
  return {
    backend,
    threads,
    convolution,
    conv,
    resnet,
    workloads,
    readNsPerElement,
    augmentation,
    numTensorsLeaked: tf.memory().numTensors - before,
  };
}

/** One round of `bench --rounds`: the four workloads compared with the PyTorch reference, images/s, by its names. */
export interface ComparedMeasurement {
  backend: string;
  /** node: whose convolutions ran. */
  convolution?: string;
  imagesPerSecond: Record<'infer' | 'sup_pgd' | 'moco_adv_step' | 'sup_adv_step', number>;
  numTensorsLeaked: number;
}

/**
 * Measures only the workloads the PyTorch reference is compared on (the same shapes, steps and repeats as
 * {@link measureBackend}): one round of `bench --compare-torch --rounds N`, run in its own process between the
 * reference's runs.
 */
export async function measureCompared(
  backend: BackendName,
  tiny: boolean,
  architectureFlag?: string,
): Promise<ComparedMeasurement> {
  const { convolution } = await selectBackend({ backend });
  const before = tf.memory().numTensors;
  const { architecture, batch, steps, repeats } = workloadShape(backend, tiny, architectureFlag);
  const w = await measureWorkloads(architecture, batch, steps, repeats, true);
  return {
    backend,
    ...(convolution !== undefined ? { convolution } : {}),
    imagesPerSecond: { infer: w.infer, sup_pgd: w.supPgd, moco_adv_step: w.mocoAdvStep, sup_adv_step: w.supAdvStep },
    numTensorsLeaked: tf.memory().numTensors - before,
  };
}

/**
 * The PyTorch reference's workloads: inference, FGSM, PGD-k, MoCo-PGD-k, and adversarial fine-tuning / pre-training
 * steps (`comparedOnly`: only the four the ratio tables compare — the others are NaN).
 */
async function measureWorkloads(
  architecture: ResnetPreset,
  batch: number,
  steps: number,
  repeats: number,
  comparedOnly: boolean,
): Promise<NonNullable<BackendMeasurement['workloads']>> {
  const encoder = createResnetEncoder({ architecture, rng: 1 });
  const classifier = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
  const head = projectionHead({ kind: 'mlp', inputDim: encoder.featureDim, rng: 3 });
  // a function, not composeModels(encoder.model, head): a composed model holds a reference to `head`,
  // so head.dispose() alone would keep its 4 weights alive (the harness's old 4-tensor leak)
  const query = (images: tf.Tensor4D) =>
    head.apply(encoder.model.apply(images, { training: false }), { training: false }) as tf.Tensor2D;
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const y = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batch], 0, 10, 'float32', 5)), 'int32')) as tf.Tensor1D;
  const unit = (t: tf.Tensor2D) => tf.div(t, tf.norm(t, 'euclidean', 1, true)) as tf.Tensor2D;
  const keys = tf.tidy(() => unit(tf.randomNormal([batch, 128], 0, 1, 'float32', 6)));
  const queue = tf.tidy(() => unit(tf.randomNormal([steps < 10 ? 64 : 4096, 128], 0, 1, 'float32', 7)));
  const variables = trainableVariables(classifier);
  const sgd = new Sgd({ learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  const supAdvStep = () => {
    const adversarial = supervisedPgd(classifier, x, y, { steps, stepSize: STANDARD_STEP_SIZE, rng: 1 });
    const { value, grads } = tf.variableGrads(
      () => tf.mean(crossEntropy(classifier.apply(adversarial, { training: true }) as tf.Tensor2D, y)) as tf.Scalar,
      variables,
    );
    sgd.step(variables, grads);
    tf.dispose([grads, adversarial]);
    return value;
  };
  const result = {
    architecture,
    batch,
    attackSteps: steps,
    infer: await imagesPerSecond(batch, repeats * 3, () => tf.tidy(() => classifier.predict(x) as tf.Tensor)),
    fgsm: comparedOnly ? Number.NaN : await imagesPerSecond(batch, repeats, () => fgsm(classifier, x, y)),
    supPgd: await imagesPerSecond(batch, repeats, () => supervisedPgd(classifier, x, y, { steps, rng: 1 })),
    mocoPgd: comparedOnly
      ? Number.NaN
      : await imagesPerSecond(batch, repeats, () =>
          mocoPgd({ query, keys, queue, temperature: 0.2 }, x, { steps, rng: 2 }),
        ),
    supAdvStep: await imagesPerSecond(batch, repeats, supAdvStep),
    mocoAdvStep: 0,
    mocoStep: 0,
    mocoFgsmStep: 0,
  };
  sgd.dispose();
  classifier.dispose(); // the encoder's weights too
  head.dispose();
  tf.dispose([x, y, keys, queue]);
  const pretrainOptions = { architecture, batch, steps: repeats, attackSteps: steps };
  result.mocoAdvStep = (await benchmarkPretrain({ ...pretrainOptions, attack: 'pgd' })).imagesPerSecond;
  if (comparedOnly) return { ...result, mocoStep: Number.NaN, mocoFgsmStep: Number.NaN };
  result.mocoStep = (await benchmarkPretrain({ ...pretrainOptions, attack: 'none' })).imagesPerSecond;
  result.mocoFgsmStep = (await benchmarkPretrain({ ...pretrainOptions, attack: 'fgsm' })).imagesPerSecond;
  return result;
}
