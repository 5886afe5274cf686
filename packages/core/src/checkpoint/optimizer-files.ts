import type * as tf from '@tensorflow/tfjs-core';
import type { Sgd } from '../optim/sgd';
import type { CheckpointFiles, StoredCheckpoint } from './checkpoint-store';
import { decodeTensorArchive, encodeTensorArchive } from './tensor-archive';

/** `optimizer.json` + `optimizer.bin`: the SGD state (momentum buffers of `variables`, in order). */
export function optimizerFiles(sgd: Sgd, variables: tf.Variable[]): CheckpointFiles {
  const state = sgd.state(variables);
  const archive = encodeTensorArchive(state.buffers);
  return {
    'optimizer.json': JSON.stringify({
      iterations: state.iterations,
      learningRate: state.learningRate,
      buffers: archive.spec,
    }),
    'optimizer.bin': archive.data,
  };
}

/** Restores {@link optimizerFiles} from a checkpoint into `sgd` for the same `variables`. */
export async function restoreOptimizer(
  sgd: Sgd,
  variables: tf.Variable[],
  checkpoint: StoredCheckpoint,
): Promise<void> {
  const json = JSON.parse(await checkpoint.readText('optimizer.json'));
  const buffers = decodeTensorArchive(
    json.buffers,
    await checkpoint.read('optimizer.bin'),
    `${checkpoint.location}/optimizer.bin`,
  );
  sgd.loadState(variables, { iterations: json.iterations, learningRate: json.learningRate, buffers });
}
