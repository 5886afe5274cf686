import * as tfl from '@tensorflow/tfjs-layers';
import type { Rng } from '@moco-robust/core';

/** A seed for a tfjs initializer drawn from `rng` (tfjs initializers take 31-bit seeds). */
const seedOf = (rng: Rng) => rng.nextUint32() % 2147483647;

/** A tfjs-layers initializer, named through tfjs-layers' public exports (its `Initializer` class is not exported). */
export type LayersInitializer = ReturnType<typeof tfl.initializers.randomNormal>;

/**
 * PyTorch's ResNet conv init (`kaiming_normal_(mode='fan_out', nonlinearity='relu')`): a plain
 * (untruncated) normal with std √(2 / (k·k·filters)).
 */
export function kaimingNormalFanOut(kernelSize: number, filters: number, rng: Rng): LayersInitializer {
  return tfl.initializers.randomNormal({
    mean: 0,
    stddev: Math.sqrt(2 / (kernelSize * kernelSize * filters)),
    seed: seedOf(rng),
  });
}

/** PyTorch's default `nn.Linear` init: weights and bias uniform in ±1/√fan_in (kaiming-uniform with a = √5). */
export function linearInit(
  fanIn: number,
  rng: Rng,
): { kernelInitializer: LayersInitializer; biasInitializer: LayersInitializer } {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    kernelInitializer: tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seedOf(rng) }),
    biasInitializer: tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed: seedOf(rng) }),
  };
}
