import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { CheckpointError, DataFormatError } from '@moco-robust/core';
import { maxRelDiff, useBackend } from '@moco-robust/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifierHead, composeModels, projectionHead } from '../heads';
import { createResnetEncoder } from '../resnet';
import { BATCH_NORM_GROUPS_METADATA, batchNormGroupsByLayer } from '../split-batch-normalization';
import { saveModel as saveModelBrowser } from '../save-model';
import { fileSystemHandler } from './file-system-handler';
import { loadModel, saveModel } from './save-model';

const BUILT_IN = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'BatchNormalization',
  'Activation',
  'Add',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'Functional',
  'Model',
  'Sequential',
];

describe.each(['cpu', 'wasm'])('saving ResNets in the tfjs layers format (node, %s)', (backend) => {
  let root = '';
  beforeAll(async () => {
    await useBackend(backend);
    root = mkdtempSync(join(tmpdir(), 'models-save-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /**
   * A small encoder (split batch-norm in memory) + MoCo-v2 head, trained one step so moving statistics are not the
   * defaults.
   */
  function trainedModel(): tfl.LayersModel {
    const encoder = createResnetEncoder({ architecture: 'resnet6-w8', rng: 7, batchNormGroups: 2 });
    const model = composeModels(
      encoder.model,
      projectionHead({ kind: 'mlp', inputDim: encoder.featureDim, outputDim: 16, rng: 8 }),
    );
    tf.tidy(() => model.apply(tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 1), { training: true }) as tf.Tensor);
    return model;
  }

  it(
    'writes model.json + weights.bin atomically, and plain tf.loadLayersModel ' +
      'loads them exactly: from a directory, fromMemory and over http',
    async () => {
      const model = trainedModel();
      const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9);
      const expected = Array.from((model.predict(x) as tf.Tensor).dataSync());
      const directory = join(root, 'encoder');
      await saveModel(model, directory);
      expect(readdirSync(directory).sort()).toEqual(['model.json', 'weights.bin']);
      expect(readdirSync(root).filter((name) => name.startsWith('.'))).toEqual([]); // no temporary left behind
      const modelJson = JSON.parse(readFileSync(join(directory, 'model.json'), 'utf8'));
      const weights = readFileSync(join(directory, 'weights.bin'));
      expect(modelJson.format).toBe('layers-model');
      expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);

      const predictions = async (loaded: tfl.LayersModel) => {
        for (const layer of loaded.layers.flatMap((l) => (l instanceof tfl.LayersModel ? l.layers : [l])))
          expect(BUILT_IN).toContain(layer.getClassName());
        return Array.from((loaded.predict(x) as tf.Tensor).dataSync());
      };
      // plain tfjs: the same weights bit for bit, and its predictions up to the rounding of moco-robust's fused
      // conv → batch-norm kernels (which ours run, on wasm too)
      const plainly = async (loaded: tfl.LayersModel) => {
        const weights = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
        expect(weights(loaded)).toEqual(weights(model));
        expect(maxRelDiff(await predictions(loaded), expected)).toBeLessThan(1e-5);
      };
      expect(await predictions(await loadModel(directory))).toEqual(expected);
      // the split batch-norm groups travel in model.json's metadata and come back with loadModel
      expect(Object.values(batchNormGroupsByLayer(await loadModel(directory)))).toEqual(
        Object.values(batchNormGroupsByLayer(model)),
      );
      expect(Object.keys(modelJson.userDefinedMetadata[BATCH_NORM_GROUPS_METADATA]).length).toBeGreaterThan(0);
      expect(await predictions(await loadModel(pathToFileURL(join(directory, 'model.json')).href))).toEqual(expected);
      const memory = tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest[0].weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      });
      await plainly(await tfl.loadLayersModel(memory));

      const server = createServer((request, response) => {
        const file =
          request.url === '/m/model.json' ? 'model.json' : request.url === '/m/weights.bin' ? 'weights.bin' : undefined;
        if (!file) return void response.writeHead(404).end();
        response.end(readFileSync(join(directory, file)));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as { port: number };
        await plainly(await tfl.loadLayersModel(`http://127.0.0.1:${port}/m/model.json`));
      } finally {
        server.close();
      }
    },
  );

  it(
    'replaces a saved model in place, refuses to replace a ' +
      'directory holding other files, and reports unreadable models',
    async () => {
      const first = composeModels(
        createResnetEncoder({ architecture: 'resnet6-w8', rng: 1 }).model,
        classifierHead({ inputDim: 16, rng: 2 }),
      );
      const second = composeModels(
        createResnetEncoder({ architecture: 'resnet6-w8', rng: 3 }).model,
        classifierHead({ inputDim: 16, rng: 4 }),
      );
      const directory = join(root, 'replaced');
      await saveModel(first, directory);
      await saveModel(second, directory);
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 5);
      expect(Array.from(((await loadModel(directory)).predict(x) as tf.Tensor).dataSync())).toEqual(
        Array.from((second.predict(x) as tf.Tensor).dataSync()),
      );

      const foreign = join(root, 'run');
      mkdirSync(foreign);
      writeFileSync(join(foreign, 'notes.txt'), 'keep me');
      await expect(saveModel(first, foreign)).rejects.toThrow(CheckpointError);
      expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('keep me');

      await expect(loadModel(join(root, 'missing'))).rejects.toThrow(DataFormatError);
      mkdirSync(join(root, 'broken'));
      writeFileSync(join(root, 'broken', 'model.json'), '{ not json');
      await expect(loadModel(join(root, 'broken'))).rejects.toThrow(DataFormatError);
    },
  );

  it('works through any IOHandler (tf.io.withSaveHandler), and the browser entry refuses a bare path', async () => {
    const model = trainedModel();
    let artifacts: tf.io.ModelArtifacts | undefined;
    await saveModelBrowser(
      model,
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9);
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
    await expect(saveModelBrowser(model, join(root, 'x'))).rejects.toThrow(/IOHandler or a tfjs URL/);
    const handler = fileSystemHandler(join(root, 'handler'));
    await model.save(handler);
    expect(Array.from(((await tfl.loadLayersModel(handler)).predict(x) as tf.Tensor).dataSync())).toEqual(
      Array.from((model.predict(x) as tf.Tensor).dataSync()),
    );
  });
});
