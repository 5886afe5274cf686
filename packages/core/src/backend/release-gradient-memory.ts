import * as tf from '@tensorflow/tfjs-core';

/** A node of tfjs's gradient tape, as the engine records it (one kernel or custom-gradient call). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The parts of tfjs-core's `Engine` the gradient pass uses (tfjs 4.x; checked before installing). */
interface GradientEngine {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<R>(start: () => void, end: () => void, f: () => R): R;
  startTape(): void;
  endTape(): void;
  addTapeNode(
    kernelName: string,
    inputs: Record<string, tf.Tensor>,
    outputs: tf.Tensor[],
    gradientsFunc: unknown,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients<T extends tf.Tensor>(
    f: () => T,
    xs: tf.Tensor[],
    dy?: T,
    allowNoGradients?: boolean,
  ): { value: T; grads: tf.Tensor[] };
}

let installed = false;

type Shapes = Record<string, number[]>;

/** `dy` summed over the axes an input of shape `shape` was broadcast along, in that shape (tfjs's own reduction). */
function reduceTo(dy: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, dy.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(dy, axes) : dy, shape);
}

/**
 * `Mean`'s gradient: dy / n broadcast back over the reduced axes — the values of tfjs-core's `dy·ones(x.shape) / n`
 * (multiplying by 1 is exact), in one small division and one broadcast instead of three full-size kernels (a fill,
 * a multiply, a division: 1.8 ms a global average pooling's gradient at 170 images of [16, 16, 16] on the native
 * backend), and without keeping x.
 */
function meanGradient(dy: tf.Tensor, shapes: Shapes, attrs: tf.NamedAttrMap): Record<string, () => tf.Tensor> {
  return {
    x: () => {
      const shape = shapes.x!;
      const axes = tf.util.parseAxisParam(attrs.axis as number | number[], shape);
      const kept = shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
      const count = axes.reduce((product, axis) => product * shape[axis]!, 1);
      return tf.broadcastTo(tf.div(tf.reshape(dy, kept), count), shape);
    },
  };
}

/**
 * Gradients that need only the shapes of their kernel's inputs (and its attrs), the same values as tfjs-core's, which
 * saves the inputs themselves for the backward pass: `Reshape` kept its input (and so a batch-norm's input or output
 * alive until the backward pass), `Add` and `Sub` kept both summands (a residual block's batch-norm output), `Mean` its
 * input (a global average pooling's).
 */
const SHAPE_ONLY_GRADIENTS: Record<
  string,
  (dy: tf.Tensor, shapes: Shapes, attrs: tf.NamedAttrMap) => Record<string, () => tf.Tensor>
> = {
  Reshape: (dy, shapes) => ({ x: () => tf.reshape(dy, shapes.x!) }),
  Add: (dy, shapes) => ({ a: () => reduceTo(dy, shapes.a!), b: () => reduceTo(dy, shapes.b!) }),
  Sub: (dy, shapes) => ({ a: () => reduceTo(dy, shapes.a!), b: () => tf.neg(reduceTo(dy, shapes.b!)) }),
  Mean: meanGradient,
};

/**
 * Makes tfjs's reverse-mode gradients (`tf.grad(s)`, `tf.valueAndGrad(s)`, `tf.variableGrads`, every optimizer's
 * `minimize`, tfjs-layers' `fit`) release memory as the backward pass goes, as PyTorch's autograd does: once a tape
 * node's gradient has been computed, the gradient that flowed into it and the tensors it saved for its backward pass
 * are disposed, instead of all being held until the whole gradient returns. The arithmetic, its order and so the
 * results are tfjs-core's own (the same gradient functions on the same tape, walked in the same order, summing
 * gradients of one tensor in the same order); only when tensors are freed changes. The tape no longer keeps the inputs
 * of `Reshape`, `Add`, `Sub` and `Mean`, whose gradients need only their shapes (`Mean`'s: the same values in fewer
 * kernels). Higher-order gradients (a gradient
 * taken inside another) keep tfjs's behaviour. Applies to every backend. Idempotent; called by `selectBackend()` —
 * never at import. Returns false (and changes nothing) when the engine is not the tfjs 4.x engine it was written
 * for.
 */
export function releaseGradientMemory(): boolean {
  if (installed) return true;
  const engine = tf.engine() as unknown as GradientEngine;
  const expected = ['scopedRun', 'startTape', 'endTape', 'tidy', 'gradients', 'addTapeNode'] as const;
  if (!expected.every((name) => typeof engine[name] === 'function') || typeof engine.state?.gradientDepth !== 'number')
    return false;
  engine.gradients = (f, xs, dy, allowNoGradients = false) => gradients(engine, f, xs, dy, allowNoGradients);
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (kernelName, inputs, outputs, gradientsFunc, saved, attrs) => {
    addTapeNode(kernelName, inputs, outputs, gradientsFunc, saved, attrs);
    const shapeOnly = SHAPE_ONLY_GRADIENTS[kernelName];
    const node = engine.state.activeTape?.at(-1);
    if (shapeOnly === undefined || node === undefined || node.kernelName !== kernelName || outputs.length !== 1) return;
    for (const tensor of node.saved ?? []) tensor.dispose();
    node.saved = [];
    const shapes = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.shape]));
    const output = outputs[0]!;
    const attributes = { ...attrs };
    node.gradient = ([dy]) => shapeOnly(dy ?? tf.zeros(output.shape, output.dtype), shapes, attributes);
  };
  installed = true;
  return true;
}

function gradients<T extends tf.Tensor>(
  engine: GradientEngine,
  f: () => T,
  xs: tf.Tensor[],
  dy: T | undefined,
  allowNoGradients: boolean,
): { value: T; grads: tf.Tensor[] } {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  // not `instanceof`: a second copy of tfjs-core shares the engine but not the class
  if (typeof (y as tf.Tensor | undefined)?.dataId !== 'object' || !Array.isArray(y.shape))
    throw new Error('The result y returned by f() must be a tensor.');
  const tape = engine.state.activeTape ?? [];
  const path = nodesFromXsToY(tape, xs, y);
  if (!allowNoGradients && path.length === 0)
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations ' +
        'that lead from x to y.',
    );
  return engine.tidy('backward', () => {
    // nothing is freed early inside another gradient: the outer one may still differentiate through this tape
    const release = engine.state.gradientDepth === 0;
    const wanted = new Set(xs.map((x) => x.id));
    const accumulated = new Map<number, tf.Tensor>([[y.id, dy ?? tf.ones(y.shape)]]);
    for (let i = path.length - 1; i >= 0; i--) {
      const node = path[i]!;
      const dys = node.outputs.map((output) => accumulated.get(output.id) ?? null);
      if (node.gradient == null)
        throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const gradient = node.gradient;
      // one scope per node: a custom gradient (`tf.customGrad`, tfjs's fused ops) computes its input gradients when
      // called, not when each is asked for, and its intermediates must not live to the end of the backward pass
      const inputGradients = engine.tidy(() => {
        const functions = gradient(dys);
        const values: Record<string, tf.Tensor> = {};
        for (const inputName in node.inputs) {
          if (!(inputName in functions))
            throw new Error(
              `Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(functions)}.`,
            );
          values[inputName] = functions[inputName]!();
        }
        return values;
      });
      const computed: tf.Tensor[] = [];
      for (const inputName in node.inputs) {
        let dx = inputGradients[inputName]!;
        const x = node.inputs[inputName]!;
        checkGradient(node, inputName, dx, x);
        // a gradient function may hand back a dy, a saved tensor or one tensor for two inputs: hold a handle of our
        // own, so that what is freed below never frees a gradient still to be used
        if (dys.includes(dx) || computed.includes(dx) || node.saved?.includes(dx)) dx = tf.clone(dx);
        computed.push(dx);
        const previous = accumulated.get(x.id);
        if (previous === undefined) {
          accumulated.set(x.id, dx);
        } else {
          accumulated.set(x.id, tf.add(previous, dx));
          previous.dispose();
          if (release) dx.dispose();
        }
      }
      if (!release) continue;
      node.outputs.forEach((output, k) => {
        const flowed = dys[k];
        if (flowed == null || flowed === dy || wanted.has(output.id)) return;
        accumulated.delete(output.id);
        flowed.dispose();
      });
      for (const tensor of node.saved ?? []) tensor.dispose();
    }
    const grads = xs.map((x) => accumulated.get(x.id)) as tf.Tensor[];
    if (release) {
      for (const node of tape) for (const tensor of node.saved ?? []) tensor.dispose();
      engine.state.activeTape = null;
    }
    return { value: y, grads };
  });
}

function checkGradient(node: TapeNode, inputName: string, dx: tf.Tensor, x: tf.Tensor): void {
  const where = `Error in gradient for op ${node.kernelName}. The gradient of input`;
  if (dx.dtype !== 'float32') throw new Error(`${where} ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`);
  if (dx.shape.length !== x.shape.length || dx.shape.some((d, k) => d !== x.shape[k]))
    throw new Error(
      `${where} '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
    );
}

/**
 * The tape's nodes on a path from one of `xs` to `y`, in tape order, each a copy whose inputs are only those that
 * depend on `xs` (the others get no gradient).
 */
function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((input) => input != null && fromX.has(input.id))) {
      nodeFromX.add(node.id);
      for (const output of node.outputs) fromX.add(output.id);
    }
  }
  const toY = new Set([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((output) => toY.has(output.id))) {
      nodeToY.add(node.id);
      for (const input of Object.values(node.inputs)) if (input != null) toY.add(input.id);
    }
  }
  return tape
    .filter((node) => nodeFromX.has(node.id) && nodeToY.has(node.id))
    .map((node) => ({
      ...node,
      inputs: Object.fromEntries(
        Object.entries(node.inputs).filter(([, input]) => input != null && fromX.has(input.id)),
      ),
    }));
}
