import * as tf from '@tensorflow/tfjs-core';
import { crossEntropy, Sgd } from '@moco-robust/core';
import { classifierHead, composeModels } from './heads';
import { createResnetEncoder } from './resnet';
import type { ResnetPreset } from './resnet-config';
import { trainableVariables } from './trainable-variables';

/** Options of {@link benchmarkResnet}. */
export interface ResnetBenchmarkOptions {
  /** Default `resnet18`. */
  architecture?: ResnetPreset;
  /** Images per batch; default 32. */
  batch?: number;
  /** Timed runs after one warm-up; the median is reported; default 3. */
  repeats?: number;
  /** Split batch-norm groups of the encoder (see `createResnetEncoder`); default 1. */
  batchNormGroups?: number;
  /**
   * Measure the standard ResNet-18/34/50 on the pure-JS cpu backend too (minutes per step); default false: skipped
   * there.
   */
  allowCpu?: boolean;
}

/** Images per second of a ResNet classifier on the current backend. */
export interface ResnetBenchmarkResult {
  backend: string;
  architecture: string;
  batch: number;
  /** Inference-mode forward, images/s (null when skipped). */
  forward: number | null;
  /** Forward + backward + SGD update (one training step), images/s (null when skipped). */
  trainStep: number | null;
  /** Why nothing was measured, when it was not. */
  skipped?: string;
}

const STANDARD: readonly string[] = ['resnet18', 'resnet34', 'resnet50'];

/**
 * Times the inference forward and the training step (forward + backward + SGD with momentum and
 * weight decay) of a ResNet classifier (default ResNet-18, batch 32, 10 classes) on the current
 * backend after a warm-up; medians of `repeats`. The standard depths are skipped on the cpu backend
 * unless `allowCpu`.
 */
export async function benchmarkResnet(options: ResnetBenchmarkOptions = {}): Promise<ResnetBenchmarkResult> {
  const architecture = options.architecture ?? 'resnet18';
  const batch = options.batch ?? 32;
  const repeats = options.repeats ?? 3;
  const backend = tf.getBackend();
  if (backend === 'cpu' && STANDARD.includes(architecture) && !options.allowCpu) {
    return {
      backend,
      architecture,
      batch,
      forward: null,
      trainStep: null,
      skipped:
        `${architecture} on the pure-JS cpu backend takes minutes per step ` +
        `(pass allowCpu, or a small architecture such as resnet8-w16)`,
    };
  }
  const encoder = createResnetEncoder({ architecture, rng: 1, batchNormGroups: options.batchNormGroups });
  const model = composeModels(encoder.model, classifierHead({ inputDim: encoder.featureDim, rng: 2 }));
  const variables = trainableVariables(model);
  const sgd = new Sgd({ learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4 });
  const x = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D; // x: [B, 32, 32, 3]
  // y: [B]
  const y = tf.tidy(() => tf.cast(tf.floor(tf.randomUniform([batch], 0, 10, 'float32', 4)), 'int32')) as tf.Tensor1D;
  const time = async (step: () => tf.Tensor) => {
    const times: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const start = performance.now();
      const out = step();
      await out.data();
      out.dispose();
      if (i > 0) times.push(performance.now() - start); // the first run is the warm-up
    }
    times.sort((a, b) => a - b);
    return (batch * 1000) / times[Math.floor(times.length / 2)];
  };
  try {
    const forward = await time(() => tf.tidy(() => model.apply(x, { training: false }) as tf.Tensor));
    const trainStep = await time(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(crossEntropy(model.apply(x, { training: true }) as tf.Tensor2D, y)) as tf.Scalar,
        variables,
      );
      sgd.step(variables, grads);
      tf.dispose(grads);
      return value;
    });
    return { backend, architecture, batch, forward, trainStep };
  } finally {
    sgd.dispose();
    tf.dispose([x, y]);
    model.dispose();
  }
}
