import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

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

/** The order in which a graph's nodes run, and how many nodes read each of its tensors. */
interface Plan {
  nodes: GraphNode[];
  readers: Map<number, number>;
  outputs: Set<number>;
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
  return { nodes, readers, outputs: new Set(graph.outputs.map((output) => output.id)) };
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
  for (const node of plan.nodes) {
    const args = node.inputTensors.map((input) => {
      const value = values.get(input.id);
      if (value === undefined) throw new Error(`releaseLayerOutputs: ${input.name} was not computed before its reader`);
      return value;
    });
    const outputs = [node.outboundLayer.apply(args, kwargs)].flat() as tf.Tensor[];
    node.outputTensors.forEach((output, i) => values.set(output.id, outputs[i]));
    for (const input of node.inputTensors) {
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

/**
 * Makes `model` (and every model nested in it) free each layer's output as soon as the layers that read it have run,
 * when applied to tensors (`model.apply(x, { training })`), in training mode too — tfjs-layers frees them early only
 * in inference mode, and otherwise holds every layer's output until the model returns, so a ResNet's forward pass under
 * a gradient tape held all of them at once. Same layers, same kwargs, same order, so the same values; the model's
 * weights, config and saved form are unchanged (the behaviour is the instance's, not saved). A model given a mask falls
 * back to tfjs's executor. Returns `model`. `createResnetEncoder`, the heads and `loadModel` apply it.
 */
export function releaseLayerOutputs<T extends tfl.LayersModel>(model: T): T {
  const marked = model as T & { [RELEASING]?: true };
  if (marked[RELEASING] || model instanceof tfl.Sequential) return model; // a Sequential runs its own inner model
  const graph = model as unknown as Graph;
  const ownCall = model.call.bind(model);
  let plan: Plan | undefined;
  Object.defineProperty(model, 'call', {
    configurable: true,
    writable: true,
    value: (inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs) => {
      if (kwargs?.mask != null) return ownCall(inputs, kwargs);
      plan ??= planOf(graph);
      const plannedFor = plan;
      return tf.tidy(() => runReleasing(graph, plannedFor, [inputs].flat(), kwargs));
    },
  });
  marked[RELEASING] = true;
  for (const layer of model.layers) if (layer instanceof tfl.LayersModel) releaseLayerOutputs(layer);
  return model;
}
