import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { fileURLToPath } from 'node:url';
import { recordBatchNormGroups } from '../split-batch-normalization';
import { type ModelLocation, withProjectLayers } from '../save-model';
import { fileSystemHandler } from './file-system-handler';

/** A directory path or `file://` URL becomes the file-system handler; other URLs and handlers pass through to tfjs. */
function resolveLocation(location: ModelLocation): tf.io.IOHandler | string {
  if (typeof location !== 'string') return location;
  if (location.startsWith('file://')) return fileSystemHandler(fileURLToPath(location));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  return fileSystemHandler(location);
}

/**
 * Saves `model` in the standard tfjs layers format. In Node a directory path (or `file://` URL)
 * gets `model.json` + `weights.bin`, written atomically (temporary directory, then rename); an
 * `IOHandler` or another tfjs URL is passed to `model.save`. Plain `tf.loadLayersModel` loads the result (split
 * batch-norm groups travel in its metadata and come back with {@link loadModel}).
 */
export async function saveModel(model: tfl.LayersModel, destination: ModelLocation): Promise<tf.io.SaveResult> {
  recordBatchNormGroups(model);
  return model.save(resolveLocation(destination));
}

/**
 * Loads a model in the tfjs layers format from a directory, its `model.json` path, a `file://` or `http(s)://` URL, or
 * an `IOHandler`; its convolutions compute only the gradients asked for (`withPlainConvolutions`), and split
 * batch-norm recorded by {@link saveModel} is restored; layer outputs are freed once read
 * ({@link releaseLayerOutputs}).
 */
export async function loadModel(source: ModelLocation): Promise<tfl.LayersModel> {
  return withProjectLayers(await tfl.loadLayersModel(resolveLocation(source)));
}
