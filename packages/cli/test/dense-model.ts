// Test support for the CLI's end-to-end tests: a classifier in the tfjs layers format, written without tfjs.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `dir/model.json` + `dir/weights.bin`: flatten → dense(`classes`) on images of shape `input`, every weight
 * (kernel, then bias) `weight(i)` or the constant `weight`. Returns `dir`.
 */
export function writeDenseModel(
  dir: string,
  input: [number, number, number],
  classes: number,
  weight: number | ((index: number) => number),
): string {
  mkdirSync(dir, { recursive: true });
  const features = input[0] * input[1] * input[2];
  const zeros = { class_name: 'Zeros', config: {} };
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'dense-classifier',
      layers: [
        { class_name: 'Flatten', config: { name: 'flatten', batch_input_shape: [null, ...input], dtype: 'float32' } },
        {
          class_name: 'Dense',
          config: { name: 'dense', units: classes, use_bias: true, kernel_initializer: zeros, bias_initializer: zeros },
        },
      ],
    },
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
  };
  const weights = [
    { name: 'dense/kernel', shape: [features, classes], dtype: 'float32' },
    { name: 'dense/bias', shape: [classes], dtype: 'float32' },
  ];
  const model = {
    format: 'layers-model',
    modelTopology: topology,
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
  writeFileSync(join(dir, 'model.json'), JSON.stringify(model));
  const data = new Float32Array(features * classes + classes);
  if (typeof weight === 'number') data.fill(weight);
  else data.forEach((_, i) => (data[i] = weight(i)));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(data.buffer));
  return dir;
}
