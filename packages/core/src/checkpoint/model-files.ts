import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors/errors';
import type { ModelLike } from '../pretext/pretext-task';
import type { StoredCheckpoint } from './checkpoint-store';

/** A model that can be saved in the tfjs layers format (a tfjs `LayersModel`). */
export interface SaveableModel extends ModelLike {
  save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult>;
  readonly weights: ReadonlyArray<{ readonly name: string; read(): tf.Tensor }>;
}

/**
 * The files of a model in the tfjs layers format — `model.json` (topology + weights manifest)
 * and `weights.bin` — loadable with plain `tf.loadLayersModel`, keyed under `prefix`.
 */
export async function modelFiles(model: SaveableModel, prefix: string): Promise<Record<string, Uint8Array | string>> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = captured!;
  const weightData = tf.io.concatenateArrayBuffers(
    artifacts.weightData === undefined
      ? []
      : Array.isArray(artifacts.weightData)
        ? artifacts.weightData
        : [artifacts.weightData],
  );
  const modelJson = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  return { [`${prefix}/model.json`]: JSON.stringify(modelJson), [`${prefix}/weights.bin`]: new Uint8Array(weightData) };
}

/**
 * Loads the weights saved by {@link modelFiles} under `prefix` of a checkpoint into `model` (same
 * architecture), in order, checking every shape.
 */
export async function restoreModelWeights(
  model: SaveableModel,
  checkpoint: StoredCheckpoint,
  prefix: string,
): Promise<void> {
  const modelJson = JSON.parse(await checkpoint.readText(`${prefix}/model.json`));
  const specs: tf.io.WeightsManifestEntry[] = modelJson.weightsManifest?.[0]?.weights ?? [];
  const data = await checkpoint.read(`${prefix}/weights.bin`);
  const decoded = tf.io.decodeWeights(data.slice().buffer, specs);
  try {
    if (specs.length !== model.weights.length) {
      throw new CheckpointError({
        path: `${checkpoint.location}/${prefix}`,
        message: `holds ${specs.length} weights, the model has ${model.weights.length}: a different architecture`,
      });
    }
    const tensors = specs.map((spec, i) => {
      const target = model.weights[i].read();
      const tensor = decoded[spec.name];
      if (!tensor || tensor.shape.join(',') !== target.shape.join(',')) {
        throw new CheckpointError({
          path: `${checkpoint.location}/${prefix}`,
          message: `weight ${i} '${spec.name}' has shape [${tensor?.shape}], the model expects [${target.shape}]`,
        });
      }
      return tensor;
    });
    model.setWeights(tensors);
  } finally {
    tf.dispose(Object.values(decoded));
  }
}
