import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { isPretextTaskV1, modelFiles, Rng, type PretextContext, type PretextHeads } from '@moco-robust/core';
import { createResnetEncoder } from '@moco-robust/models';
import { checkPretextContract } from '@moco-robust/pretext-testkit';
import { leakedTensors, tinyPretextEncoder, useBackend } from '@moco-robust/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { layerNorm } from './attention-pooling';
import selfieFactory from './index';
import { patchEncoder } from './patch-encoder';
import { drawSelfieMask, imagePatches, selectSlots } from './patches';
import { candidateAccuracy, candidateLoss, SELFIE_HEAD, selfieTask } from './selfie-task';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Images [N, 32, 32, 3] whose 8×8 patch in slot s of image n is the constant colour (s / 16, n / N, 0.5). */
function slotColouredImages(n: number): tf.Tensor4D {
  const data = new Float32Array(n * 32 * 32 * 3);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const slot = Math.floor(y / 8) * 4 + Math.floor(x / 8);
        data.set([slot / 16, i / n, 0.5], ((i * 32 + y) * 32 + x) * 3);
      }
    }
  }
  return tf.tensor4d(data, [n, 32, 32, 3]);
}

describe('Selfie patches, masks and candidates', () => {
  it('cuts a 32×32 image into 16 row-major 8×8 patches, exactly', () => {
    const images = slotColouredImages(3);
    const patches = imagePatches(images, 8);
    expect(patches.shape).toEqual([48, 8, 8, 3]);
    const values = patches.arraySync();
    for (let i = 0; i < 3; i++) {
      for (let s = 0; s < 16; s++) {
        const patch = values[i * 16 + s];
        expect(
          patch.flat().every((pixel) => pixel[0] === s / 16 && pixel[1] === Math.fround(i / 3) && pixel[2] === 0.5),
        ).toBe(true);
      }
    }
    tf.dispose([images, patches]);
  });

  it('draws 4 masked and 12 visible slots per batch, a seeded partition of the 16', () => {
    const mask = drawSelfieMask(16, 4, Rng.fromSeed(1));
    expect(mask.masked).toHaveLength(4);
    expect(mask.visible).toHaveLength(12);
    expect([...mask.masked, ...mask.visible].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(mask.visible).toEqual([...mask.visible].sort((a, b) => a - b));
    expect(drawSelfieMask(16, 4, Rng.fromSeed(1))).toEqual(mask);
    const others = [2, 3, 4, 5].map((seed) => drawSelfieMask(16, 4, Rng.fromSeed(seed)).masked.join());
    expect(new Set([mask.masked.join(), ...others]).size).toBeGreaterThan(1);
    expect(() => drawSelfieMask(16, 16, Rng.fromSeed(1))).toThrow(/maskedPatches/);
    expect(() => drawSelfieMask(16, 1, Rng.fromSeed(1))).toThrow(/maskedPatches/);
  });

  it(
    'gives each masked slot the 4 masked patches of the same ' +
      "image as candidates, the true one at the slot's index",
    () => {
      const images = slotColouredImages(5);
      const mask = drawSelfieMask(16, 4, Rng.fromSeed(7));
      const pixels = tf.reshape(imagePatches(images, 8), [5, 16, 8 * 8 * 3]) as tf.Tensor3D;
      const candidates = selectSlots(pixels, mask.masked).arraySync(); // [5, 4, 192]
      const visible = selectSlots(pixels, tf.tensor1d(mask.visible, 'int32')).arraySync(); // [5, 12, 192]
      for (let i = 0; i < 5; i++) {
        mask.masked.forEach((slot, c) => {
          expect(candidates[i][c][0]).toBeCloseTo(slot / 16, 6); // candidate c is slot masked[c]'s patch…
          expect(candidates[i][c][1]).toBeCloseTo(i / 5, 6); // …of the same image
        });
        mask.visible.forEach((slot, v) => expect(visible[i][v][0]).toBeCloseTo(slot / 16, 6));
      }
      tf.dispose([images, pixels]);
    },
  );

  it('makeBatch returns the images and the seeded mask as int32 targets', () => {
    const task = selfieTask({ layers: 1, heads: 2, feedForwardDim: 8 });
    const images = slotColouredImages(2);
    const context = {} as PretextContext;
    const batch = task.makeBatch(images, Rng.fromSeed(4), context);
    const expected = drawSelfieMask(16, 4, Rng.fromSeed(4).fork('mask'));
    expect(Array.from(batch.targets.masked.dataSync())).toEqual(expected.masked);
    expect(Array.from(batch.targets.visible.dataSync())).toEqual(expected.visible);
    expect(batch.targets.masked.dtype).toBe('int32');
    expect(Array.from(batch.inputs.dataSync())).toEqual(Array.from(images.dataSync()));
    expect(batch.inputs).not.toBe(images);
    tf.dispose([images, batch.inputs, ...Object.values(batch.targets)]);
  });
});

describe('Selfie task on a tiny encoder (cpu)', () => {
  const encoder = tinyPretextEncoder(3);
  const task = selfieTask({ patchStages: 3, layers: 2, heads: 2, feedForwardDim: 32 });
  let heads: PretextHeads;
  const context = (): PretextContext => ({ encoder, heads, training: false, rng: Rng.fromSeed(0), step: 0 });

  beforeAll(() => {
    heads = task.createHeads(encoder, Rng.fromSeed(11));
  });

  it('is a PretextTaskV1 named selfie with combine mean, also as the default export', () => {
    expect(isPretextTaskV1(task)).toBe(true);
    expect(task.name).toBe('selfie');
    expect(task.combine).toBe('mean');
    expect(isPretextTaskV1(selfieFactory())).toBe(true);
    const report = checkPretextContract(selfieTask({ patchStages: 3, layers: 2, heads: 2, feedForwardDim: 32 }), {
      encoder,
    });
    expect(report).toMatchObject({ name: 'selfie', combine: 'mean', inputShape: [8, 32, 32, 3] });
  });

  it("uses the encoder's stem and stages as the patch network, sharing its weights", () => {
    const patches = patchEncoder(encoder.model, 3);
    expect(patches.lastLayer).toBe('stage1_relu');
    expect(patches.featureDim).toBe(16);
    const shared = new Set(encoder.model.trainableWeights.map((w) => w.read()));
    expect(patches.model.trainableWeights.every((w) => shared.has(w.read()))).toBe(true);
    const resnet = createResnetEncoder({ architecture: 'resnet8-w16', rng: 1 });
    expect(patchEncoder(resnet.model, 1)).toMatchObject({ lastLayer: 'stage1_block1_relu2', featureDim: 16 });
    expect(patchEncoder(resnet.model, 2)).toMatchObject({ lastLayer: 'stage2_block1_relu2', featureDim: 32 });
    resnet.model.dispose();
    const plain = tfl.sequential({ layers: [tfl.layers.dense({ units: 2, inputShape: [3] })] });
    expect(() => patchEncoder(plain, 1)).toThrow(/stage/);
    plain.dispose();
  });

  it('scores candidates equivariantly: swapping two masked slots swaps their rows and columns', () => {
    const images = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const scores = (masked: number[]) =>
      tf.tidy(() =>
        task
          .logits(context(), images, {
            masked: tf.tensor1d(masked, 'int32'),
            visible: tf.tensor1d([0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 13, 15], 'int32'),
          })
          .arraySync(),
      );
    const a = scores([4, 7, 12, 14]);
    const b = scores([7, 4, 12, 14]);
    const swap = [1, 0, 2, 3];
    for (let n = 0; n < 3; n++) {
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(b[n][i][j]).toBeCloseTo(a[n][swap[i]][swap[j]], 4);
    }
    images.dispose();
  });

  it('loss is the mean over slots of the 4-way cross-entropy; accuracy counts true candidates', () => {
    const logits = tf.tensor3d([
      [
        [5, 0, 0, 0],
        [0, 5, 0, 0],
        [0, 0, 5, 0],
        [0, 0, 0, 5],
      ],
      [
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
        [9, 0, 0, 0],
      ],
    ]);
    const loss = candidateLoss(logits).arraySync();
    const confident = -Math.log(Math.exp(5) / (Math.exp(5) + 3));
    expect(loss[0]).toBeCloseTo(confident, 5);
    expect(loss[1]).toBeCloseTo((3 * Math.log(4) + (9 + Math.log(1 + 3 * Math.exp(-9)))) / 4, 4);
    // image 2: argmax of a tie is candidate 0 → slot 0 counts
    expect(candidateAccuracy(logits).dataSync()[0]).toBeCloseTo(5 / 8, 6);
    logits.dispose();
  });

  it('computes a per-example loss [N] without leaking tensors, differentiable in the inputs', async () => {
    const images = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 6) as tf.Tensor4D;
    const batch = task.makeBatch(images, Rng.fromSeed(2), context());
    const leaked = await leakedTensors(() => {
      tf.tidy(() => {
        const loss = task.loss(context(), batch.inputs, batch.targets);
        expect(loss.shape).toEqual([4]);
        const gradient = tf.grad((x: tf.Tensor) => tf.sum(task.loss(context(), x as tf.Tensor4D, batch.targets)))(
          batch.inputs,
        );
        expect(tf.max(tf.abs(gradient)).dataSync()[0]).toBeGreaterThan(0);
      });
    });
    expect(leaked).toBe(0);
    tf.dispose([images, batch.inputs, ...Object.values(batch.targets)]);
  });

  it('saves its head in the tfjs layers format that tf.loadLayersModel reads with no project code', async () => {
    const head = heads[SELFIE_HEAD] as unknown as tfl.LayersModel;
    const files = await modelFiles(head, 'head');
    const json = JSON.parse(files['head/model.json'] as string);
    const weights = files['head/weights.bin'] as Uint8Array;
    const loaded = await tfl.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest[0].weights,
        weightData: weights.slice().buffer,
      }),
    );
    expect(loaded.getWeights().length).toBe(head.getWeights().length);
    const [a, b] = [head.getLayer('layer2_value').getWeights()[0], loaded.getLayer('layer2_value').getWeights()[0]];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(head.getLayer('position_embedding').getWeights()[0].shape).toEqual([16, 16]);
    loaded.dispose();
  });

  it('round-trips its state and refuses the state of another task or grid', () => {
    const state = JSON.parse(JSON.stringify(task.state()));
    expect(state).toMatchObject({ task: 'selfie', patchSize: 8, maskedPatches: 4, layers: 2, heads: 2 });
    const other = selfieTask({ patchStages: 3, layers: 2, heads: 2, feedForwardDim: 32 });
    expect(() => other.loadState(state)).not.toThrow();
    expect(() => other.loadState({ task: 'rotation' })).toThrow(/selfie/);
    expect(() => selfieTask({ maskedPatches: 3 }).loadState(state)).toThrow(/masked/);
  });

  it('checks its options with named errors', () => {
    expect(() => selfieTask({ heads: 3, layers: 1 }).createHeads(encoder, Rng.fromSeed(1))).toThrow(/heads/);
    expect(() => selfieTask({ patchSize: 5 }).createHeads(encoder, Rng.fromSeed(1))).toThrow(/patchSize/);
    expect(() => selfieTask({ maskedPatches: 16 }).createHeads(encoder, Rng.fromSeed(1))).toThrow(/maskedPatches/);
    expect(() => selfieTask({ augment: 3 as never })).toThrow(/augment/);
  });
});

describe("Selfie's layer norm", () => {
  it("equals tfjs-layers' LayerNormalization, values and input gradient, with trained γ and β", () => {
    const layer = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 });
    layer.build([null, 5, 6]);
    layer.setWeights([tf.tensor1d([0.5, 1, 1.5, 2, -1, 3]), tf.tensor1d([0.1, -0.2, 0.3, 0, 1, -1])]);
    const x = tf.randomNormal([3, 5, 6], 2, 3, 'float32', 7) as tf.Tensor3D;
    const weights = tf.randomNormal([3, 5, 6], 0, 1, 'float32', 8);
    const reference = (z: tf.Tensor) => tf.sum(tf.mul(layer.apply(z) as tf.Tensor, weights));
    const ours = (z: tf.Tensor) => tf.sum(tf.mul(layerNorm(layer, z), weights));
    expect(Array.from(layerNorm(layer, x).dataSync())).toEqual(
      Array.from((layer.apply(x) as tf.Tensor).dataSync()).map((v) => expect.closeTo(v, 5)),
    );
    const expected = tf.grad(reference)(x).dataSync();
    Array.from(tf.grad(ours)(x).dataSync()).forEach((g, i) => expect(g).toBeCloseTo(expected[i], 4));
  });
});
