import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, DataFormatError } from '@moco-robust/core';

/** Files a saved model directory may hold; a directory with anything else is never replaced. */
const MODEL_FILE = /^(model\.json|.*\.bin)$/;

/**
 * A tfjs `IOHandler` over the file system (Node; `tf.io.fileSystem` belongs to the optional
 * tfjs-node). `save` writes `model.json` + `weights.bin` into a temporary directory beside `path`,
 * flushed, then renamed into place, so readers see the old model or the new one, never a mix; it
 * replaces an existing directory only if that holds nothing but model files. `load` takes the
 * directory or its `model.json` and reads every weight file the manifest lists.
 */
export function fileSystemHandler(path: string): tf.io.IOHandler {
  return {
    save: (artifacts) => saveArtifacts(path, artifacts),
    load: () => loadArtifacts(path),
  };
}

async function saveArtifacts(directory: string, artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
  if (artifacts.modelTopology == null || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new CheckpointError({
      path: directory,
      message: 'needs a JSON model topology (a tfjs LayersModel); binary graph-model topologies are not supported',
    });
  }
  const weightData =
    artifacts.weightData === undefined
      ? new ArrayBuffer(0)
      : tf.io.concatenateArrayBuffers(
          Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData],
        );
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology,
    format: artifacts.format ?? 'layers-model',
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
    ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
    ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
  };
  await refuseForeignDirectory(directory);
  const suffix = randomBytes(6).toString('hex');
  const temporary = join(dirname(directory), `.${basename(directory)}.${suffix}.tmp`);
  const previous = join(dirname(directory), `.${basename(directory)}.${suffix}.old`);
  try {
    await mkdir(temporary, { recursive: true });
    await writeFlushed(join(temporary, 'model.json'), JSON.stringify(modelJson));
    await writeFlushed(join(temporary, 'weights.bin'), new Uint8Array(weightData));
    const existed = await exists(directory);
    if (existed) await rename(directory, previous);
    await rename(temporary, directory);
    if (existed) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    if ((await exists(previous)) && !(await exists(directory)))
      await rename(previous, directory).catch(() => undefined); // put the old model back
    throw new CheckpointError({
      path: directory,
      message: `could not save the model: ${(error as Error).message}`,
      cause: error,
    });
  }
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }) };
}

async function refuseForeignDirectory(directory: string): Promise<void> {
  const info = await stat(directory).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory())
    throw new CheckpointError({
      path: directory,
      message: 'exists and is not a directory; a model is saved as a directory (model.json + weights.bin)',
    });
  const foreign = (await readdir(directory)).filter((name) => !MODEL_FILE.test(name));
  if (foreign.length > 0) {
    throw new CheckpointError({
      path: directory,
      message:
        `holds files that are not model files ` +
        `(${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); ` +
        `it is left intact: save into a new or empty directory`,
    });
  }
}

async function writeFlushed(path: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

async function loadArtifacts(path: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = path.endsWith('.json') ? path : join(path, 'model.json');
  const text = await readFile(jsonPath, 'utf8').catch((error: Error) => {
    throw new DataFormatError({ path: jsonPath, message: `cannot read the model: ${error.message}`, cause: error });
  });
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError({
      path: jsonPath,
      message: `is not valid JSON: ${(error as Error).message}`,
      cause: error,
    });
  }
  if (modelJson === null || typeof modelJson !== 'object' || modelJson.modelTopology == null) {
    throw new DataFormatError({ path: jsonPath, message: 'has no modelTopology: not a tfjs model.json' });
  }
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      for (const file of group.paths) {
        const filePath = join(dirname(jsonPath), file);
        const bytes = await readFile(filePath).catch((error: Error) => {
          throw new DataFormatError({
            path: filePath,
            message: `cannot read a weight file listed in model.json: ${error.message}`,
            cause: error,
          });
        });
        buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      }
    }
    return [tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(buffers)];
  });
}
