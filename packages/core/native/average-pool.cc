// Average pooling over windows that do not overlap (window ≤ stride, no padding: a ResNet's 2×2 downsampling, or a
// 1×1 stride-2 subsampling before a shortcut's 1×1 convolution) and its gradient for the native CPU backend,
// registered as TensorFlow ops beside the oneDNN convolutions (built into the same addon; `registerAveragePool` is
// called when it loads).
//
//   MocoAvgPool(input [n, h, w, c]) -> [n, oh, ow, c]     attrs ksize [kh, kw], strides [sh, sw] (kh ≤ sh, kw ≤ sw);
//                                                         oh = (h − kh) / sh + 1, ow = (w − kw) / sw + 1
//   MocoAvgPoolGrad(dy [n, oh, ow, c]) -> [n, h, w, c]    the same attrs and input_shape [n, h, w, c]
//
// Why: with TensorFlow's oneDNN rewrites off (onednn-convolution-addon.ts), its AvgPool and AvgPoolGrad are Eigen's
// general ones, 150 and 300–640 µs a call on AutoAttack's 8–10-image batches and 1.4–1.8 ms on 170 images of
// [32, 32, 8] for what is one pass over the tensor. Each window's mean here is a sum over its kh·kw rows of c
// contiguous channels.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"
#include "tf-kernel-helpers.h"

namespace {

using moco::fail;

// OpenMP's thread count when the library loaded (OMP_NUM_THREADS, else every core); below this many elements a call
// stays on the calling thread (waking the others costs more)
const int kPoolThreads = omp_get_max_threads();
constexpr int64_t kSerialElements = 1 << 18;

struct PoolAttrs {
  int64_t ksize[2] = {1, 1};
  int64_t strides[2] = {1, 1};
  int64_t inputShape[4] = {0, 0, 0, 0};
  bool gradient = false;
};

/** Reads int list attr `name` of `count` values, all of which must be positive. */
bool readPositive(TF_OpKernelConstruction* ctx, const char* name, int64_t* values, int count, TF_Status* status) {
  if (!moco::readList(ctx, name, values, count, status)) return false;
  if (std::all_of(values, values + count, [](int64_t v) { return v >= 1; })) return true;
  TF_SetStatus(status, TF_INVALID_ARGUMENT, (std::string("attr ") + name + " must be positive").c_str());
  return false;
}

void* createPool(TF_OpKernelConstruction* ctx, bool gradient) {
  auto* attrs = new PoolAttrs;
  attrs->gradient = gradient;
  TF_Status* status = TF_NewStatus();
  bool ok = readPositive(ctx, "ksize", attrs->ksize, 2, status) &&
            readPositive(ctx, "strides", attrs->strides, 2, status) &&
            (!gradient || readPositive(ctx, "input_shape", attrs->inputShape, 4, status));
  if (ok && (attrs->ksize[0] > attrs->strides[0] || attrs->ksize[1] > attrs->strides[1])) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, "ksize must be at most strides (windows that do not overlap)");
    ok = false;
  }
  if (!ok) {
    TF_OpKernelConstruction_Failure(ctx, status);
    delete attrs;
    attrs = nullptr;
  }
  TF_DeleteStatus(status);
  return attrs;
}
void* createForward(TF_OpKernelConstruction* ctx) { return createPool(ctx, false); }
void* createGradient(TF_OpKernelConstruction* ctx) { return createPool(ctx, true); }
void deletePool(void* kernel) { delete static_cast<PoolAttrs*>(kernel); }

// Four floats in one SIMD register (SSE on x86-64, NEON on arm64), through GCC's and Clang's vector extensions: the
// channel loops run four-wide when the channel count is a multiple of 4 (-O2 does not vectorize them).
typedef float Vector __attribute__((vector_size(16)));

inline Vector load(const float* from) {
  Vector v;
  std::memcpy(&v, from, sizeof v);
  return v;
}
inline void store(float* to, Vector v) { std::memcpy(to, &v, sizeof v); }

/** to[0..c) += from[0..c) */
inline void accumulate(float* to, const float* from, int64_t c) {
  int64_t channel = 0;
  for (; channel + 4 <= c; channel += 4) store(to + channel, load(to + channel) + load(from + channel));
  for (; channel < c; ++channel) to[channel] += from[channel];
}

/** to[0..c) = from[0..c)·scale */
inline void scaled(float* to, const float* from, float scale, int64_t c) {
  int64_t channel = 0;
  for (; channel + 4 <= c; channel += 4) store(to + channel, load(from + channel) * scale);
  for (; channel < c; ++channel) to[channel] = from[channel] * scale;
}

/** One pooling's geometry: input [n, h, w, c], windows kh×kw every sh×sw (kh ≤ sh, kw ≤ sw), output oh×ow. */
struct Pool {
  int64_t n, h, w, c, kh, kw, sh, sw, oh, ow;
};

/**
 * Mean of each window of x (rows and columns past the last whole window, and between windows, are not read): per
 * output row, the window's kh input rows summed into one (contiguous, four-wide), then each window's kw columns.
 */
void pool(const float* x, float* y, const Pool& p) {
  const int64_t width = p.w * p.c;
  const float scale = 1.0f / float(p.kh * p.kw);
#pragma omp parallel num_threads(kPoolThreads) if (p.n * p.h * p.w * p.c >= kSerialElements)
  {
    std::vector<float> rows(p.kh == 1 && p.kw == 1 ? 0 : width);  // a subsampling reads its pixels directly
#pragma omp for
    for (int64_t row = 0; row < p.n * p.oh; ++row) {
      const int64_t image = row / p.oh, i = row % p.oh;
      const float* first = x + (image * p.h + i * p.sh) * width;
      float* out = y + row * p.ow * p.c;
      if (p.kh == 1 && p.kw == 1) {  // a subsampling: each output pixel is one input pixel
        for (int64_t j = 0; j < p.ow; ++j) std::memcpy(out + j * p.c, first + j * p.sw * p.c, sizeof(float) * p.c);
        continue;
      }
      std::memcpy(rows.data(), first, sizeof(float) * width);
      for (int64_t a = 1; a < p.kh; ++a) accumulate(rows.data(), first + a * width, width);
      for (int64_t j = 0; j < p.ow; ++j) {
        float* window = rows.data() + j * p.sw * p.c;
        for (int64_t b = 1; b < p.kw; ++b) accumulate(window, window + b * p.c, p.c);
        scaled(out + j * p.c, window, scale, p.c);
      }
    }
  }
}

/** dx [n, h, w, c]: each window's positions get its dy / (kh·kw); positions in no window get 0. */
void poolGradient(const float* dy, float* dx, const Pool& p) {
  const int64_t width = p.w * p.c;
  const float scale = 1.0f / float(p.kh * p.kw);
#pragma omp parallel for num_threads(kPoolThreads) if (p.n * p.h * p.w * p.c >= kSerialElements)
  for (int64_t row = 0; row < p.n * p.h; ++row) {
    const int64_t image = row / p.h, i = row % p.h;
    float* out = dx + row * width;
    std::fill(out, out + width, 0.0f);
    if (i % p.sh >= p.kh || i / p.sh >= p.oh) continue;  // a row in no window
    const float* in = dy + (image * p.oh + i / p.sh) * p.ow * p.c;
    for (int64_t j = 0; j < p.ow; ++j)
      for (int64_t b = 0; b < p.kw; ++b) scaled(out + (j * p.sw + b) * p.c, in + j * p.c, scale, p.c);
  }
}

void computePool(void* kernel, TF_OpKernelContext* ctx) {
  const PoolAttrs& attrs = *static_cast<PoolAttrs*>(kernel);
  const moco::Tensor owned(moco::getInput(ctx, 0));
  if (!owned) return;  // the failure is reported
  TF_Tensor* input = owned.get();
  const char* name = attrs.gradient ? "MocoAvgPoolGrad: dy" : "MocoAvgPool: input";
  Pool p{0, 0, 0, 0, attrs.ksize[0], attrs.ksize[1], attrs.strides[0], attrs.strides[1], 0, 0};
  const auto outputs = [&] {
    p.oh = p.h >= p.kh ? (p.h - p.kh) / p.sh + 1 : 0;
    p.ow = p.w >= p.kw ? (p.w - p.kw) / p.sw + 1 : 0;
  };
  std::string problem;
  if (TF_NumDims(input) != 4 || TF_TensorType(input) != TF_FLOAT) {
    problem = std::string(name) + " must be a float32 tensor of rank 4";
  } else if (attrs.gradient) {
    p.n = attrs.inputShape[0], p.h = attrs.inputShape[1], p.w = attrs.inputShape[2], p.c = attrs.inputShape[3];
    outputs();
    if (TF_Dim(input, 0) != p.n || TF_Dim(input, 1) != p.oh || TF_Dim(input, 2) != p.ow || TF_Dim(input, 3) != p.c)
      problem = std::string(name) + " must be [" + std::to_string(p.n) + ", " + std::to_string(p.oh) + ", " +
                std::to_string(p.ow) + ", " + std::to_string(p.c) + "] for input_shape, ksize and strides";
  } else {
    p.n = TF_Dim(input, 0), p.h = TF_Dim(input, 1), p.w = TF_Dim(input, 2), p.c = TF_Dim(input, 3);
    outputs();
  }
  if (problem.empty() && (p.h < p.kh || p.w < p.kw)) problem = std::string(name) + " is smaller than one window";
  if (!problem.empty()) return fail(ctx, TF_INVALID_ARGUMENT, problem);
  const std::vector<int64_t> dims = {p.n, attrs.gradient ? p.h : p.oh, attrs.gradient ? p.w : p.ow, p.c};
  const moco::Tensor output(moco::allocate(ctx, dims));
  if (!output || TF_TensorElementCount(output.get()) == 0) return;
  const auto* from = static_cast<const float*>(TF_TensorData(input));
  auto* to = static_cast<float*>(TF_TensorData(output.get()));
  if (attrs.gradient)
    poolGradient(from, to, p);
  else
    pool(from, to, p);
}

bool registerPoolOp(const char* name, const char* input, bool gradient, TF_Status* status) {
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(name);
  TF_OpDefinitionBuilderAddInput(op, input);
  TF_OpDefinitionBuilderAddOutput(op, "output: float");
  TF_OpDefinitionBuilderAddAttr(op, "ksize: list(int)");
  TF_OpDefinitionBuilderAddAttr(op, "strides: list(int)");
  if (gradient) TF_OpDefinitionBuilderAddAttr(op, "input_shape: list(int)");
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK) return false;
  TF_KernelBuilder* kernel =
      TF_NewKernelBuilder(name, "CPU", gradient ? &createGradient : &createForward, &computePool, &deletePool);
  TF_RegisterKernelBuilder((std::string(name) + "Kernel").c_str(), kernel, status);
  return TF_GetCode(status) == TF_OK;
}

}  // namespace

/** Registers MocoAvgPool and MocoAvgPoolGrad with their CPU kernels; false (with `status` set) when TensorFlow refuses. */
bool registerAveragePool(TF_Status* status) {
  return registerPoolOp("MocoAvgPool", "input: float", false, status) &&
         registerPoolOp("MocoAvgPoolGrad", "dy: float", true, status);
}
