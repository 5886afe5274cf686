import * as tfl from '@tensorflow/tfjs-layers';

/**
 * A tiny seeded conv encoder images [N, 32, 32, 3] → features [N, width·2] for fast tests:
 * stem conv (stride 2) → BN → ReLU → stage1 conv (stride 2) → BN → ReLU → global average pool.
 * Layer names follow the models package's convention (`stem…`, `stage<k>…`).
 */
export function tinyEncoderModel(seed: number, width = 8): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.heNormal({ seed: seed * 10 + s });
  const input = tfl.input({ shape: [32, 32, 3] });
  let x = input;
  // two blocks, each conv (stride 2) → BN → ReLU, created in this order (the seeded weights depend on it)
  for (const [name, filters, initSeed] of [
    ['stem', width, 1],
    ['stage1', width * 2, 2],
  ] as const) {
    const conv = tfl.layers.conv2d({
      name: `${name}_conv`,
      filters,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(initSeed),
    });
    x = conv.apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .batchNormalization({ name: `${name}_bn`, momentum: 0.9, epsilon: 1e-5 })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.activation({ name: `${name}_relu`, activation: 'relu' }).apply(x) as tfl.SymbolicTensor;
  }
  const output = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output });
}

/**
 * {@link tinyEncoderModel} as a pretext encoder (`PretextEncoder` of @moco-robust/core, structurally):
 * features [N, width·2]; `clone()` builds the same architecture and copies the current weights.
 */
export function tinyPretextEncoder(
  seed: number,
  width = 8,
): { model: tfl.LayersModel; featureDim: number; clone(): tfl.LayersModel } {
  const model = tinyEncoderModel(seed, width);
  return {
    model,
    featureDim: width * 2,
    clone() {
      const copy = tinyEncoderModel(seed, width);
      copy.setWeights(model.getWeights());
      return copy;
    },
  };
}
