// Loads what the page attacks: from the `moco-robust playground` server (run/manifest.json) or from dropped files.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { decodeTensorArchive, l2Normalize, type TensorArchiveSpec } from '@moco-robust/core';
import { parseCifar10 } from '@moco-robust/data';
import { loadModel } from '@moco-robust/models';
import type { MocoParts } from './attack-runner';

/** What the server's run/manifest.json lists (paths relative to the page). */
export interface RunManifest {
  classifier?: string;
  encoder?: { query: string; queryHead?: string; key?: string; keyHead?: string; state?: string; queue?: string };
  data?: string;
}

/** A labelled set of uint8 HWC 32×32×3 images. */
export interface ImageBank {
  images: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** The server's manifest, or undefined when the page is opened as plain static files. */
export async function fetchManifest(): Promise<RunManifest | undefined> {
  try {
    const response = await fetch('run/manifest.json');
    return response.ok ? ((await response.json()) as RunManifest) : undefined;
  } catch {
    return undefined;
  }
}

export async function fetchImages(url: string): Promise<ImageBank> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return parseCifar10(new Uint8Array(await response.arrayBuffer()), url);
}

/** A dropped CIFAR-10 binary file (any number of records). */
export async function readImageFile(file: File): Promise<ImageBank> {
  return parseCifar10(new Uint8Array(await file.arrayBuffer()), file.name);
}

/** A model from dropped files: one `model.json` and its weight files. */
export function loadDroppedModel(files: File[]): Promise<tfl.LayersModel> {
  const json = files.find((f) => f.name.endsWith('.json'));
  if (!json) throw new Error('drop a model.json together with its weight files (.bin)');
  return loadModel(tf.io.browserFiles([json, ...files.filter((f) => f !== json)]));
}

export function loadServedModel(url: string): Promise<tfl.LayersModel> {
  return loadModel(url);
}

/**
 * The label-free attacks' parts from the server's encoder entry: the query encoder (+ its projection head), the key
 * encoder (+ head; the query's when absent), and the run's MoCo queue (else `bank`'s key embeddings, up to 256).
 */
export async function loadServedMoco(entry: NonNullable<RunManifest['encoder']>, bank?: ImageBank): Promise<MocoParts> {
  const [encoder, head, keyEncoder, keyHead] = await Promise.all(
    [entry.query, entry.queryHead, entry.key, entry.keyHead].map((url) => (url ? loadModel(url) : undefined)),
  );
  const query = embed(encoder!, head);
  const key = keyEncoder ? embed(keyEncoder, keyHead) : query;
  let temperature = 0.2;
  let queue: tf.Tensor2D | undefined;
  if (entry.state && entry.queue) {
    const state = (await (await fetch(entry.state)).json()) as {
      taskState?: { temperature?: number };
      taskTensors?: TensorArchiveSpec['tensors'];
    };
    temperature = state.taskState?.temperature ?? temperature;
    const bytes = new Uint8Array(await (await fetch(entry.queue)).arrayBuffer());
    const spec: TensorArchiveSpec = { format: 'moco-robust-tensors/v1', tensors: state.taskTensors ?? [] };
    const stored = decodeTensorArchive(spec, bytes, entry.queue).find((t) => t.name === 'queue');
    if (stored) queue = tf.tensor2d(stored.data as Float32Array, stored.shape as [number, number]);
  }
  return { query, key, queue: queue ?? queueFrom(key, bank), temperature };
}

/** The label-free attacks' parts from one dropped encoder model: its output is the embedding, its own key. */
export function mocoFromEncoder(encoder: tfl.LayersModel, bank?: ImageBank): MocoParts {
  const query = embed(encoder);
  return { query, key: query, queue: queueFrom(query, bank), temperature: 0.2 };
}

function embed(encoder: tfl.LayersModel, head?: tfl.LayersModel): (x: tf.Tensor4D) => tf.Tensor2D {
  return (x) => {
    const features = encoder.apply(x, { training: false }) as tf.Tensor;
    return (head ? head.apply(features, { training: false }) : features) as tf.Tensor2D;
  };
}

/** Negatives when the run has no queue: the L2-normalised key embeddings of up to 256 of the loaded images. */
function queueFrom(key: (x: tf.Tensor4D) => tf.Tensor2D, bank?: ImageBank): tf.Tensor2D {
  if (!bank || bank.count === 0) throw new Error('the MoCo attacks need negatives: load test images first');
  const n = Math.min(256, bank.count);
  return tf.tidy(() => {
    const x = tf.div(tf.cast(tf.tensor4d(bank.images.subarray(0, n * 3072), [n, 32, 32, 3], 'int32'), 'float32'), 255);
    return l2Normalize(key(x as tf.Tensor4D));
  });
}
