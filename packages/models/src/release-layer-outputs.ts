import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { withConstantWeights } from '@moco-robust/core';
import {
  batchNormAffine,
  convAffine,
  convAffineAvailable,
  denseAffine,
  WeightTransformCache,
} from '@moco-robust/core/kernels';

/** The slice of a tfjs-layers graph node the executor reads. */
interface GraphNode {
  outboundLayer: tfl.layers.Layer & { stateful?: boolean };
  inputTensors: tfl.SymbolicTensor[];
  outputTensors: tfl.SymbolicTensor[];
}

/** The slice of a tfjs-layers `Container` (every functional `LayersModel`) the executor reads. */
interface Graph {
  inputs: tfl.SymbolicTensor[];
  outputs: tfl.SymbolicTensor[];
  inputLayers: tfl.layers.Layer[];
  nodesByDepth: Record<string, GraphNode[]>;
}

type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** The order in which a graph's nodes run, how many nodes read each of its tensors, and what may be fused. */
interface Plan {
  nodes: GraphNode[];
  readers: Map<number, number>;
  outputs: Set<number>;
  /**
   * conv → batch-norm (→ residual sum) (→ ReLU) chains that can run as one `convAffine` in inference mode, by the
   * node at which each runs: the convolution's, or the sum's (once its other input, the residual, has been computed).
   */
  fusions: Map<GraphNode, Fusion>;
  /** `Dense` layers applied to rank-4 inputs (every position), which run as one 1×1 `convAffine` in inference mode. */
  pixelDenses: Set<GraphNode>;
  /** `Dense` layers applied to rank-2 inputs, which run as a plain matrix product, sum and activation. */
  plainDenses: Set<GraphNode>;
}

/**
 * A convolution, its only reader, an inference-mode batch-norm, then that one's only reader if it is a two-input sum
 * (`add`, with the other input as `residual`), then the only reader of the last if it is a ReLU.
 */
interface Fusion {
  conv: GraphNode;
  batchNorm: GraphNode;
  add?: GraphNode;
  residual?: tfl.SymbolicTensor;
  relu?: GraphNode;
}

type Variable = { read(): tf.Tensor };
/** The fields of tfjs's `Conv2D` layer a fusion reads. */
interface ConvLayer extends tfl.layers.Layer {
  rank: number;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  kernel: Variable;
  bias?: Variable | null;
  activation?: { getClassName(): string };
}
/** The fields of tfjs's `Dense` layer the executor reads. */
interface DenseLayer extends tfl.layers.Layer {
  kernel: Variable;
  bias?: Variable | null;
  activation?: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor };
}
/** The fields of tfjs's `BatchNormalization` layer a fusion reads. */
interface BatchNormLayer extends tfl.layers.Layer {
  axis: number;
  epsilon: number;
  gamma?: Variable | null;
  beta?: Variable | null;
  movingMean: Variable;
  movingVariance: Variable;
}

const isFusableConv = (layer: tfl.layers.Layer): layer is ConvLayer => {
  const conv = layer as ConvLayer;
  return (
    layer.getClassName() === 'Conv2D' &&
    conv.rank === 2 &&
    conv.dataFormat === 'channelsLast' &&
    (conv.padding === 'same' || conv.padding === 'valid') &&
    [conv.dilationRate].flat().every((d) => d === 1) &&
    (conv.activation === undefined || conv.activation.getClassName() === 'linear')
  );
};
/** A `Dense` layer (no activation, or ReLU) applied to one rank-4 input: a per-position map, a 1×1 convolution. */
const isPixelDense = (node: GraphNode) => {
  const activation = (node.outboundLayer as DenseLayer).activation?.getClassName() ?? 'linear';
  return (
    node.outboundLayer.getClassName() === 'Dense' &&
    node.inputTensors.length === 1 &&
    node.inputTensors[0]!.shape.length === 4 &&
    (activation === 'linear' || activation === 'relu')
  );
};
/** A `Dense` layer applied to one rank-2 input (features). */
const isPlainDense = (node: GraphNode) =>
  node.outboundLayer.getClassName() === 'Dense' &&
  node.inputTensors.length === 1 &&
  node.inputTensors[0]!.shape.length === 2;

/**
 * Whether a `Dense` on features runs as plain ops ({@link runPlainDense}): under a gradient tape, where tfjs-layers'
 * fused matrix product (`tf.fused.matMul`, with a linear activation) computes the input's, the kernel's and the bias's
 * gradients together whatever backpropagation asks for (an attack asks only for the input's); and on the native
 * backend, whose fused kernel is those plain ops (the same values) behind a wrapper costing 2× them at a few images.
 * Elsewhere outside a tape tfjs-layers' own call runs: wasm's fused product adds the bias inside its GEMM (other
 * rounding), and a saved model must predict what plain tfjs predicts.
 */
function plainDenseWanted(): boolean {
  return recordingGradients() || tf.getBackend() === 'tensorflow';
}

/** Whether a gradient is being recorded (inside `tf.grad`, `variableGrads` or an optimizer's `minimize`). */
function recordingGradients(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0;
}

/** A `Dense` layer at every position of x [N, H, W, C] (no activation, or ReLU) as one 1×1 `convAffine`. */
function runPixelDense(layer: DenseLayer, x: tf.Tensor): tf.Tensor {
  const relu = layer.activation?.getClassName() === 'relu';
  const kernel = layer.kernel.read() as tf.Tensor2D;
  return tf.tidy(() => denseAffine(x as tf.Tensor4D, kernel, layer.bias?.read() as tf.Tensor1D | undefined, relu));
}

/** A `Dense` layer on features [N, D] as tfjs's plain ops: matMul, add, then its activation. */
function runPlainDense(layer: DenseLayer, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const product = tf.matMul(x, layer.kernel.read());
    const biased = layer.bias ? tf.add(product, layer.bias.read()) : product;
    return layer.activation ? layer.activation.apply(biased) : biased;
  });
}

const isChannelsLastBatchNorm = (layer: tfl.layers.Layer) =>
  layer.getClassName() === 'BatchNormalization' && [-1, 3].includes((layer as BatchNormLayer).axis);
const isRelu = (layer: tfl.layers.Layer) =>
  (layer.getClassName() === 'Activation' &&
    (layer as { activation?: { getClassName(): string } }).activation?.getClassName() === 'relu') ||
  (layer.getClassName() === 'ReLU' && (layer as { maxValue?: number | null }).maxValue == null);

const sameShape = (a: tfl.SymbolicTensor, b: tfl.SymbolicTensor) =>
  a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/** conv → batch-norm (→ residual sum) (→ ReLU) chains whose intermediate tensors nothing else reads. */
function fusionsOf(nodes: GraphNode[], readers: Map<number, number>, outputs: Set<number>): Map<GraphNode, Fusion> {
  const onlyReader = (tensor: tfl.SymbolicTensor) =>
    readers.get(tensor.id) === 1 && !outputs.has(tensor.id)
      ? nodes.find((node) => node.inputTensors.some((input) => input.id === tensor.id))
      : undefined;
  const fusions = new Map<GraphNode, Fusion>();
  for (const conv of nodes) {
    if (!isFusableConv(conv.outboundLayer) || conv.outputTensors.length !== 1 || conv.inputTensors.length !== 1)
      continue;
    const batchNorm = onlyReader(conv.outputTensors[0]);
    if (batchNorm?.inputTensors.length !== 1 || !isChannelsLastBatchNorm(batchNorm.outboundLayer)) continue;
    const normalised = batchNorm.outputTensors[0];
    let next = onlyReader(normalised);
    const residual = next?.inputTensors.find((input) => input.id !== normalised.id);
    const add =
      next?.outboundLayer.getClassName() === 'Add' &&
      next.inputTensors.length === 2 &&
      residual !== undefined &&
      sameShape(residual, normalised) &&
      !fusions.has(next) // the sum's other input may be a fused chain too: one of them takes the sum
        ? next
        : undefined;
    if (add) next = onlyReader(add.outputTensors[0]);
    const relu = next && isRelu(next.outboundLayer) ? next : undefined;
    const fusion = { conv, batchNorm, ...(add ? { add, residual } : {}), ...(relu ? { relu } : {}) };
    fusions.set(add ?? conv, fusion);
  }
  return fusions;
}

/** A fused chain on `x`: the convolution with the batch-norm's affine map (the residual, the ReLU) as one kernel. */
function runFused(fusion: Fusion, x: tf.Tensor, residual: tf.Tensor | undefined): tf.Tensor {
  const conv = fusion.conv.outboundLayer as ConvLayer;
  const batchNorm = fusion.batchNorm.outboundLayer as BatchNormLayer;
  return tf.tidy(() => {
    const [factor, shift] = batchNormAffine(
      {
        mean: batchNorm.movingMean.read(),
        variance: batchNorm.movingVariance.read(),
        scale: batchNorm.gamma?.read(),
        offset: batchNorm.beta?.read(),
        bias: conv.bias?.read(),
      },
      batchNorm.epsilon,
    );
    return convAffine(
      x as tf.Tensor4D,
      conv.kernel.read() as tf.Tensor4D,
      factor as tf.Tensor1D,
      shift as tf.Tensor1D,
      {
        strides: [conv.strides[0]!, conv.strides[1]!],
        pad: conv.padding as 'same' | 'valid',
        dilations: 1,
        relu: fusion.relu !== undefined,
      },
      residual as tf.Tensor4D | undefined,
    );
  });
}

const RELEASING = Symbol('moco-robust.releaseLayerOutputs');

function planOf(graph: Graph): Plan {
  const inputLayers = new Set(graph.inputLayers);
  const nodes = Object.keys(graph.nodesByDepth)
    .map(Number)
    .sort((a, b) => b - a) // deepest first, as tfjs-layers runs them
    .flatMap((depth) => graph.nodesByDepth[depth].filter((node) => !inputLayers.has(node.outboundLayer)));
  const readers = new Map<number, number>();
  for (const node of nodes)
    for (const input of node.inputTensors) readers.set(input.id, (readers.get(input.id) ?? 0) + 1);
  const outputs = new Set(graph.outputs.map((output) => output.id));
  const pixelDenses = new Set(nodes.filter(isPixelDense));
  const plainDenses = new Set(nodes.filter(isPlainDense));
  return { nodes, readers, outputs, fusions: fusionsOf(nodes, readers, outputs), pixelDenses, plainDenses };
}

/**
 * Runs `graph` on concrete tensors the way tfjs-layers' own executor does (each layer's `apply` with the caller's
 * kwargs, in the same order), disposing each layer's output as soon as the last layer that reads it has run — also in
 * training mode and under a gradient tape, where tfjs-layers keeps every output until the whole model returns. The tape
 * keeps its own handle on what a gradient needs, so a freed output's memory returns only when no gradient needs it
 * (a batch-norm's output once the ReLU after it has run, a residual sum once its ReLU has).
 */
function runReleasing(graph: Graph, plan: Plan, inputs: tf.Tensor[], kwargs: Kwargs): tf.Tensor[] {
  const values = new Map<number, tf.Tensor>();
  graph.inputs.forEach((input, i) => values.set(input.id, inputs[i]));
  const given = new Set(inputs);
  const readersLeft = new Map(plan.readers);
  // in inference mode, where the fused kernel exists: conv → batch-norm (→ residual sum) (→ ReLU) as one kernel,
  // and a Dense at every position as a 1×1 one
  const fuse =
    kwargs?.training !== true && (plan.fusions.size > 0 || plan.pixelDenses.size > 0) && convAffineAvailable();
  // the nodes fusions run in place of: their batch-norms and ReLUs, and the convolutions of those run at their sums
  const fusedAway = new Set<GraphNode>();
  if (fuse)
    for (const { conv, batchNorm, add, relu } of plan.fusions.values()) {
      fusedAway.add(batchNorm);
      if (relu) fusedAway.add(relu);
      if (add) fusedAway.add(conv);
    }
  for (const node of plan.nodes) {
    if (fusedAway.has(node)) continue;
    const fusion = fuse ? plan.fusions.get(node) : undefined;
    // a fusion run at a sum reads the convolution's input and the residual, not the sum's inputs
    const reads = fusion?.add ? [fusion.conv.inputTensors[0]!, fusion.residual!] : node.inputTensors;
    const args = reads.map((input) => {
      const value = values.get(input.id);
      if (value === undefined) throw new Error(`releaseLayerOutputs: ${input.name} was not computed before its reader`);
      return value;
    });
    if (fusion) {
      const last = fusion.relu ?? fusion.add ?? fusion.batchNorm;
      values.set(last.outputTensors[0]!.id, runFused(fusion, args[0]!, fusion.add ? args[1] : undefined));
    } else if (fuse && plan.pixelDenses.has(node)) {
      values.set(node.outputTensors[0]!.id, runPixelDense(node.outboundLayer as DenseLayer, args[0]!));
    } else if (plan.plainDenses.has(node) && plainDenseWanted()) {
      values.set(node.outputTensors[0]!.id, runPlainDense(node.outboundLayer as DenseLayer, args[0]!));
    } else {
      const outputs = [node.outboundLayer.apply(args, kwargs)].flat() as tf.Tensor[];
      node.outputTensors.forEach((output, i) => values.set(output.id, outputs[i]));
    }
    for (const input of reads) {
      const left = readersLeft.get(input.id)! - 1;
      readersLeft.set(input.id, left);
      if (left > 0 || plan.outputs.has(input.id)) continue;
      const value = values.get(input.id)!;
      values.delete(input.id);
      const stillHeld = given.has(value) || [...values.values()].includes(value); // an identity layer's output
      const producer = input.sourceLayer as tfl.layers.Layer & { stateful?: boolean };
      if (!stillHeld && !value.isDisposed && producer.stateful !== true) value.dispose();
    }
  }
  return graph.outputs.map((output) => values.get(output.id)!);
}

/** Each executor-run model's weight transforms kept between inference passes. */
const caches = new WeakMap<object, WeightTransformCache>();

/**
 * The weight transforms `model` and the models nested in it keep from one inference pass to the next (outside a
 * gradient tape: each batch-norm's per-channel factor and shift, on wasm the batch-norm-scaled convolution filters),
 * made by the first pass after the weights change and freed by `model.dispose()` — for leak checks, which should
 * expect a model to hold its weights and these (`numTensors`), and for freeing them early (`dispose()`: the next pass
 * makes them again). Zero for a model the executor does not run.
 */
export function keptTransforms(model: object): { readonly numTensors: number; dispose(): void } {
  const all: WeightTransformCache[] = [];
  const visit = (m: object) => {
    const cache = caches.get(m);
    if (cache && !all.includes(cache)) all.push(cache);
    const inner = (m as { model?: unknown }).model; // a Sequential's functional model
    if (m instanceof tfl.Sequential && inner instanceof tfl.LayersModel) visit(inner);
    if (m instanceof tfl.LayersModel) for (const layer of m.layers) if (layer instanceof tfl.LayersModel) visit(layer);
  };
  visit(model);
  return {
    get numTensors() {
      return all.reduce((count, cache) => count + cache.numTensors, 0);
    },
    dispose: () => {
      for (const cache of all) cache.dispose();
    },
  };
}

/** Makes `model.dispose()` call `free` first; once per model (a second call keeps the first wrapper). */
function freeOnDispose(model: tfl.LayersModel, free: () => void): void {
  if (Object.hasOwn(model, 'dispose')) return;
  const ownDispose = model.dispose.bind(model);
  Object.defineProperty(model, 'dispose', {
    configurable: true,
    writable: true,
    value: () => {
      free();
      return ownDispose();
    },
  });
}

/**
 * Makes `model` (and every model nested in it) free each layer's output as soon as the layers that read it have run,
 * when applied to tensors (`model.apply(x, { training })`), in training mode too — tfjs-layers frees them early only
 * in inference mode, and otherwise holds every layer's output until the model returns, so a ResNet's forward pass under
 * a gradient tape held all of them at once. Same layers, same kwargs, same order, so the same values; the model's
 * weights, config and saved form are unchanged (the behaviour is the instance's, not saved). A model given a mask falls
 * back to tfjs's executor. `predict` and `predictOnBatch` run through it too, in inference mode. Returns `model`.
 * `createResnetEncoder`, the heads and `loadModel` apply it.
 */
export function releaseLayerOutputs<T extends tfl.LayersModel>(model: T): T {
  const marked = model as T & { [RELEASING]?: true };
  if (marked[RELEASING]) return model;
  if (model instanceof tfl.Sequential) {
    // a Sequential runs its own inner functional model (made when it is built): that one is the executor's
    const sequential = model as unknown as { model?: tfl.LayersModel; build(): void };
    if (sequential.model === undefined && model.layers.length > 0) sequential.build();
    const inner = sequential.model;
    if (inner instanceof tfl.LayersModel && !(inner instanceof tfl.Sequential)) releaseLayerOutputs(inner);
    // tfjs-layers disposes a Sequential's layers, not its inner model: free what that one keeps (whichever it is then)
    freeOnDispose(model, () => keptTransforms(model).dispose());
    return model;
  }
  const graph = model as unknown as Graph;
  const ownCall = model.call.bind(model);
  let plan: Plan | undefined;
  // an inference pass outside a gradient tape reuses the last one's weight transforms (a batch-norm's factor and
  // shift, wasm's folded filter) while the weights are the same; under a tape they are made on each call, where a
  // gradient may flow into the weights through them
  const kept = new WeightTransformCache();
  caches.set(model, kept);
  Object.defineProperty(model, 'call', {
    configurable: true,
    writable: true,
    value: (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => {
      if (kwargs?.mask != null) return ownCall(inputs, kwargs);
      plan ??= planOf(graph);
      const plannedFor = plan;
      const run = () => tf.tidy(() => runReleasing(graph, plannedFor, [inputs].flat(), kwargs));
      return kwargs?.training !== true && !recordingGradients() ? withConstantWeights(run, kept) : run();
    },
  });
  freeOnDispose(model, () => kept.dispose());
  // predict / predictOnBatch (after tfjs-layers' checks of the input) run batch by batch through the executor above
  // in inference mode, instead of tfjs-layers' own: the same values, with conv → batch-norm (→ ReLU) fused
  Object.defineProperty(model, 'predictLoop', {
    configurable: true,
    writable: true,
    value: (inputs: tf.Tensor | tf.Tensor[], batchSize = 32) =>
      tf.tidy(() => {
        const all = [inputs].flat();
        const count = all[0]!.shape[0]!;
        const parts: tf.Tensor[][] = graph.outputs.map(() => []);
        for (let start = 0; start < count; start += batchSize) {
          const size = Math.min(batchSize, count - start);
          const batch = all.map((x) => (size === count ? x : tf.slice(x, start, size)));
          const outputs = [model.call(batch.length === 1 ? batch[0]! : batch, { training: false })].flat();
          outputs.forEach((output, i) => parts[i]!.push(output));
        }
        const joined = parts.map((outputs) => tf.concat(outputs, 0));
        return joined.length === 1 ? joined[0]! : joined;
      }),
  });
  marked[RELEASING] = true;
  for (const layer of model.layers) if (layer instanceof tfl.LayersModel) releaseLayerOutputs(layer);
  return model;
}
