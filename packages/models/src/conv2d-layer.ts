import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Arguments of tfjs's built-in `conv2d` layer. */
type Conv2dArgs = Parameters<typeof tfl.layers.conv2d>[0];

/** The fields of tfjs's `Conv2D` layer the plain form reads (set by its constructor and `build`). */
interface Conv2dLayer extends tfl.layers.Layer {
  readonly rank: number;
  readonly strides: number[];
  readonly padding: string;
  readonly dataFormat: string;
  readonly dilationRate: number | number[];
  readonly kernel: { read(): tf.Tensor };
  readonly bias?: { read(): tf.Tensor } | null;
  readonly activation?: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
}

type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

let plainClass: (new (args: Conv2dArgs) => Conv2dLayer) | undefined;
let builtInClass: (new (args: Conv2dArgs) => Conv2dLayer) | undefined;

/**
 * A subclass of the very class `tfl.layers.conv2d` instantiates (taken from an instance, so it is the
 * same tfjs-layers copy) whose `call` uses the plain `conv2d` op (+ bias, activation) instead of
 * tfjs-core's `fused.conv2d`. The fused op's custom gradient computes the input, filter and bias
 * gradients together whatever is asked for; the plain op's gradients are computed only when needed,
 * so an attack (input gradient only) no longer pays for a filter gradient per convolution — about
 * 30 % of a PGD step on the native backend. It inherits the class name, `build`, weights and
 * `getConfig`, so a model holding it serialises as plain `Conv2D` and `tf.loadLayersModel` needs no
 * project code. Channels-first and 1-D/3-D forms keep tfjs's own path.
 */
function plainConv2dClass(): new (args: Conv2dArgs) => Conv2dLayer {
  if (plainClass) return plainClass;
  const Base = Object.getPrototypeOf(tfl.layers.conv2d({ filters: 1, kernelSize: 1 })).constructor as new (
    args: Conv2dArgs,
  ) => Conv2dLayer;
  builtInClass = Base;
  plainClass = class PlainConv2D extends Base {
    override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
      if (
        this.rank !== 2 ||
        this.dataFormat !== 'channelsLast' ||
        (this.padding !== 'same' && this.padding !== 'valid')
      )
        return super.call(inputs, kwargs);
      return tf.tidy(() => {
        const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
        const dilations = (
          typeof this.dilationRate === 'number' ? this.dilationRate : [this.dilationRate[0], this.dilationRate[1]]
        ) as number | [number, number];
        let y: tf.Tensor = tf.conv2d(
          x,
          this.kernel.read() as tf.Tensor4D,
          [this.strides[0], this.strides[1]],
          this.padding as 'same' | 'valid',
          'NHWC',
          dilations,
        );
        if (this.bias) y = tf.add(y, this.bias.read());
        return this.activation ? this.activation.apply(y) : y;
      });
    }
  };
  return plainClass;
}

/**
 * tfjs's `Conv2D` layer (same arguments, weights and saved form) whose gradients are computed only
 * for the tensors backpropagation needs — see `plainConv2dClass`. The ResNets use it.
 */
export function conv2dLayer(args: Conv2dArgs): tfl.layers.Layer {
  const Plain = plainConv2dClass();
  return new Plain(args);
}

/**
 * Gives the built-in `Conv2D` layers of `model` (and of the models nested in it) the gradients of
 * {@link conv2dLayer} — for a model loaded with `tf.loadLayersModel`, which builds tfjs's own layer:
 * the subclass adds no state, so the layers' class changes and nothing else (weights, config and
 * saved form stay). Returns `model`. `loadModel` does this for every model it loads.
 */
export function withPlainConvolutions<T extends tfl.LayersModel>(model: T): T {
  const Plain = plainConv2dClass();
  const visit = (layers: tfl.layers.Layer[]) => {
    for (const layer of layers) {
      if (Object.getPrototypeOf(layer) === builtInClass!.prototype) Object.setPrototypeOf(layer, Plain.prototype);
      const nested = (layer as unknown as { layers?: tfl.layers.Layer[] }).layers;
      if (Array.isArray(nested)) visit(nested);
    }
  };
  visit(model.layers);
  return model;
}
