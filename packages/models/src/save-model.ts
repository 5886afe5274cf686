import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InvalidArgumentError } from '@moco-robust/core';
import { withPlainConvolutions } from './conv2d-layer';
import { releaseLayerOutputs } from './release-layer-outputs';
import { recordBatchNormGroups, restoreBatchNormGroups } from './split-batch-normalization';

/**
 * Where a model is saved or loaded from: a tfjs `IOHandler` or a tfjs URL (`indexeddb://name`, `localstorage://name`,
 * `downloads://name`, `http(s)://…/model.json`).
 */
export type ModelLocation = string | tf.io.IOHandler;

/**
 * Saves `model` in the standard tfjs layers format (`model.json` + weights) through a tfjs `IOHandler`
 * or URL (`indexeddb://…`, `downloads://…`, `tf.io.withSaveHandler(…)`). The Node entry of this
 * package also takes a directory path. The model holds only built-in layers, so plain
 * `tf.loadLayersModel` loads it back; split batch-norm groups travel in its metadata ({@link recordBatchNormGroups}).
 */
export async function saveModel(model: tfl.LayersModel, destination: ModelLocation): Promise<tf.io.SaveResult> {
  if (typeof destination === 'string' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(destination)) {
    throw new InvalidArgumentError({
      argument: 'destination',
      expected:
        'an IOHandler or a tfjs URL such as indexeddb://name ' +
        '(directory paths need the Node entry of @moco-robust/models)',
      received: destination,
    });
  }
  recordBatchNormGroups(model);
  return model.save(destination);
}

/**
 * Loads a model saved in the tfjs layers format from an `IOHandler` or URL (a relative URL in a browser too); the same
 * as `tf.loadLayersModel` (which needs no project code), with convolutions that compute only the gradients asked for
 * (`withPlainConvolutions`) and split batch-norm restored where the model was saved with it
 * ({@link restoreBatchNormGroups}), and layer outputs freed once read ({@link releaseLayerOutputs}).
 */
export async function loadModel(source: ModelLocation): Promise<tfl.LayersModel> {
  return withProjectLayers(await tfl.loadLayersModel(source));
}

/**
 * What every `loadModel` (browser and Node entry) does to a model tfjs loaded: plain convolutions, split batch-norm
 * restored, layer outputs freed once read. Internal: not exported from the package.
 */
export function withProjectLayers(model: tfl.LayersModel): tfl.LayersModel {
  return releaseLayerOutputs(restoreBatchNormGroups(withPlainConvolutions(model)));
}
