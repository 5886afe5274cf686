// Average pooling over non-overlapping windows (window = stride, no padding: a ResNet's 2×2 downsampling) and its
// gradient for the native CPU backend, registered as TensorFlow ops beside the oneDNN convolutions (built into the
// same addon; `registerAveragePool` is called when it loads).
//
//   MocoAvgPool(input [n, h, w, c]) -> [n, h / kh, w / kw, c]        attr ksize [kh, kw] (also the strides)
//   MocoAvgPoolGrad(dy [n, oh, ow, c]) -> [n, h, w, c]               attrs ksize [kh, kw], input_shape [n, h, w, c]
//
// Why: with TensorFlow's oneDNN rewrites off (onednn-convolution-addon.ts), its AvgPool and AvgPoolGrad are Eigen's
// general ones, 150 and 300 µs a call on AutoAttack's 8-image batches and 1.4–1.8 ms on 170 images of [32, 32, 8] for
// what is one pass over the tensor. Each window's mean here is a sum over its kh·kw rows of c contiguous channels.
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

namespace {

// OpenMP's thread count when the library loaded (OMP_NUM_THREADS, else every core); below this many elements a call
// stays on the calling thread (waking the others costs more)
const int kPoolThreads = omp_get_max_threads();
constexpr int64_t kSerialElements = 1 << 18;

struct PoolAttrs {
  int64_t ksize[2] = {1, 1};
  int64_t inputShape[4] = {0, 0, 0, 0};
  bool gradient = false;
};

bool readInts(TF_OpKernelConstruction* ctx, const char* name, int64_t* values, int count, TF_Status* status) {
  int32_t listSize = 0, totalSize = 0;
  TF_OpKernelConstruction_GetAttrSize(ctx, name, &listSize, &totalSize, status);
  if (TF_GetCode(status) != TF_OK) return false;
  if (listSize != count) {
    const std::string message = std::string("attr ") + name + " must have " + std::to_string(count) + " values";
    TF_SetStatus(status, TF_INVALID_ARGUMENT, message.c_str());
    return false;
  }
  TF_OpKernelConstruction_GetAttrInt64List(ctx, name, values, count, status);
  if (TF_GetCode(status) == TF_OK && std::any_of(values, values + count, [](int64_t v) { return v < 1; })) {
    TF_SetStatus(status, TF_INVALID_ARGUMENT, (std::string("attr ") + name + " must be positive").c_str());
    return false;
  }
  return TF_GetCode(status) == TF_OK;
}

void* createPool(TF_OpKernelConstruction* ctx, bool gradient) {
  auto* attrs = new PoolAttrs;
  attrs->gradient = gradient;
  TF_Status* status = TF_NewStatus();
  const bool ok =
      readInts(ctx, "ksize", attrs->ksize, 2, status) && (!gradient || readInts(ctx, "input_shape", attrs->inputShape,
                                                                                4, status));
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

void fail(TF_OpKernelContext* ctx, TF_Code code, const std::string& message) {
  TF_Status* status = TF_NewStatus();
  TF_SetStatus(status, code, message.c_str());
  TF_OpKernelContext_Failure(ctx, status);
  TF_DeleteStatus(status);
}

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

/**
 * Mean of each kh×kw window of x [n, h, w, c] (rows and columns past the last whole window are not read): per output
 * row, the window's kh input rows summed into one (contiguous, four-wide), then each window's kw columns of it.
 */
void pool(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw) {
  const int64_t oh = h / kh, ow = w / kw, width = ow * kw * c;
  const float scale = 1.0f / float(kh * kw);
#pragma omp parallel num_threads(kPoolThreads) if (n * h * w * c >= kSerialElements)
  {
    std::vector<float> rows(width);
#pragma omp for
    for (int64_t row = 0; row < n * oh; ++row) {
      const int64_t image = row / oh, i = row % oh;
      const float* first = x + (image * h + i * kh) * w * c;
      std::memcpy(rows.data(), first, sizeof(float) * width);
      for (int64_t a = 1; a < kh; ++a) accumulate(rows.data(), first + a * w * c, width);
      float* out = y + row * ow * c;
      for (int64_t j = 0; j < ow; ++j) {
        float* window = rows.data() + j * kw * c;
        for (int64_t b = 1; b < kw; ++b) accumulate(window, window + b * c, c);
        scaled(out + j * c, window, scale, c);
      }
    }
  }
}

/** dx [n, h, w, c]: each window's positions get its dy / (kh·kw); positions in no whole window get 0. */
void poolGradient(const float* dy, float* dx, int64_t n, int64_t h, int64_t w, int64_t c, int64_t kh, int64_t kw) {
  const int64_t oh = h / kh, ow = w / kw;
  const float scale = 1.0f / float(kh * kw);
#pragma omp parallel for num_threads(kPoolThreads) if (n * h * w * c >= kSerialElements)
  for (int64_t row = 0; row < n * h; ++row) {
    const int64_t image = row / h, i = row % h;
    float* out = dx + row * w * c;
    if (i >= oh * kh) {
      std::fill(out, out + w * c, 0.0f);
      continue;
    }
    for (int64_t j = 0; j < ow; ++j)
      for (int64_t b = 0; b < kw; ++b) scaled(out + (j * kw + b) * c, dy + ((image * oh + i / kh) * ow + j) * c, scale, c);
    std::fill(out + ow * kw * c, out + w * c, 0.0f);
  }
}

void computePool(void* kernel, TF_OpKernelContext* ctx) {
  const PoolAttrs& attrs = *static_cast<PoolAttrs*>(kernel);
  TF_Status* status = TF_NewStatus();
  TF_Tensor* input = nullptr;
  TF_GetInput(ctx, 0, &input, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    TF_DeleteStatus(status);
    return;
  }
  const char* name = attrs.gradient ? "MocoAvgPoolGrad: dy" : "MocoAvgPool: input";
  const int64_t kh = attrs.ksize[0], kw = attrs.ksize[1];
  int64_t n = 0, h = 0, w = 0, c = 0;
  std::string problem;
  if (TF_NumDims(input) != 4 || TF_TensorType(input) != TF_FLOAT) {
    problem = std::string(name) + " must be a float32 tensor of rank 4";
  } else if (attrs.gradient) {
    n = attrs.inputShape[0], h = attrs.inputShape[1], w = attrs.inputShape[2], c = attrs.inputShape[3];
    if (TF_Dim(input, 0) != n || TF_Dim(input, 1) != h / kh || TF_Dim(input, 2) != w / kw || TF_Dim(input, 3) != c)
      problem = std::string(name) + " must be [" + std::to_string(n) + ", " + std::to_string(h / kh) + ", " +
                std::to_string(w / kw) + ", " + std::to_string(c) + "] for input_shape and ksize";
  } else {
    n = TF_Dim(input, 0), h = TF_Dim(input, 1), w = TF_Dim(input, 2), c = TF_Dim(input, 3);
    if (h < kh || w < kw) problem = std::string(name) + " is smaller than one window";
  }
  if (!problem.empty()) {
    fail(ctx, TF_INVALID_ARGUMENT, problem);
  } else {
    const int64_t dims[4] = {n, attrs.gradient ? h : h / kh, attrs.gradient ? w : w / kw, c};
    const int64_t count = dims[0] * dims[1] * dims[2] * dims[3];
    TF_Tensor* output = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims, 4, sizeof(float) * count, status);
    if (TF_GetCode(status) != TF_OK) {
      TF_OpKernelContext_Failure(ctx, status);
    } else {
      const auto* from = static_cast<const float*>(TF_TensorData(input));
      auto* to = static_cast<float*>(TF_TensorData(output));
      if (count > 0 && attrs.gradient)
        poolGradient(from, to, n, h, w, c, kh, kw);
      else if (count > 0)
        pool(from, to, n, h, w, c, kh, kw);
      TF_DeleteTensor(output);
    }
  }
  TF_DeleteTensor(input);
  TF_DeleteStatus(status);
}

bool registerPoolOp(const char* name, const char* input, bool gradient, TF_Status* status) {
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(name);
  TF_OpDefinitionBuilderAddInput(op, input);
  TF_OpDefinitionBuilderAddOutput(op, "output: float");
  TF_OpDefinitionBuilderAddAttr(op, "ksize: list(int)");
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
