/**
 * `@moco-robust/core/kernels`: moco-robust's own fused kernels, for the model executor (`@moco-robust/models`) and
 * for users writing their own — a convolution with an inference-mode batch-norm's per-channel map (and a ReLU) in one
 * kernel, where the backend has it; FAB's projection step as one kernel; a cache of weight transforms kept from one
 * inference pass to the next. Kept out of the main entry, whose API is the library's.
 * @packageDocumentation
 */
export {
  batchNormAffine,
  CONV_AFFINE_KERNEL,
  convAffine,
  convAffineAvailable,
  type ConvAffineAttrs,
  denseAffine,
} from './backend/conv-affine';
export {
  LINF_BOX_PROJECTION_KERNEL,
  linfBoxProjection,
  linfBoxProjectionAvailable,
} from './backend/linf-box-projection';
export { WeightTransformCache } from './backend/constant-weights';
