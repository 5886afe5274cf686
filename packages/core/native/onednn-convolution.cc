// Convolutions for the native CPU backend through oneDNN's own library (Debian's libdnnl), registered as
// TensorFlow ops through TensorFlow's C kernel API, so tfjs-node's binding runs them like any op.
//
// Why: TensorFlow 2.21 runs a 3×3 convolution through the oneDNN 3.7.3 bundled in it, with activations in
// NHWC and filters in HWIO, and that build picks oneDNN's direct `jit` convolution. Given the filter in the
// layout oneDNN prefers (`format_tag::any`), the library picks its BRGEMM convolution, 1.4–1.7× faster per
// call at ResNet-18's shapes (docs/performance-notes.md #28).
//
// Ops (all float32, NHWC activations, HWIO filters, explicit padding [top, bottom, left, right]):
//   MocoConv2D(input, filter) -> output                      the forward convolution
//   MocoConv2DAffine(input, filter, scale, shift) -> output  conv(input, filter)·scale + shift per output channel,
//                                                            then max(·, 0) if attr relu: an inference-mode
//                                                            batch-norm (and ReLU) folded into the convolution —
//                                                            conv(input, filter·scale) with shift as its bias and
//                                                            the ReLU as a post-op
//   MocoConv2DAffineResidual(input, filter, scale, shift, residual) -> output
//                                                            the same with residual (the output's shape) added
//                                                            before the ReLU: a ResNet block's last batch-norm,
//                                                            shortcut sum and ReLU; the residual is copied into the
//                                                            output and added by a sum post-op
//   MocoConv2DBackpropFilter(input, dy) -> filter gradient  with attr filter_shape [kh, kw, in, out]
// (and, from other sources in the same addon: MocoLinfBoxProjection, FAB's projection step, in linf-box-projection.cc;
// MocoAvgPool and MocoAvgPoolGrad, average pooling over non-overlapping windows, in average-pool.cc)
// All take attrs strides [sh, sw], pads [top, bottom, left, right] and dilations [dh, dw] (1 = none).
//
// 3×3 stride-1 convolutions padded by 1 with enough channels and output positions run as Winograd's F(4×4, 3×3)
// where oneDNN has it (AVX-512; `winogradFits`); `MOCO_ROBUST_WINOGRAD=0` keeps them direct. The module also exports
// `forwardImplementations()`, the algorithm each forward geometry made so far runs on.
//
// Built by `buildNativeBackend` (phase "kernels") into tfjs-node's deps/ beside the TensorFlow libraries it
// registers into; loading it (a Node-API module) registers the ops once. Each distinct shape's primitive is
// made once and kept; the filter's reorder into oneDNN's layout runs in the op, each call.
#include <node_api.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/ops.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"
#include "tf-kernel-helpers.h"

namespace {

using moco::allocate;
using moco::fail;
using moco::getInput;
using moco::readList;
using moco::Tensor;

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto kFloat = memory::data_type::f32;

dnnl::engine& cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  static dnnl::stream stream(cpuEngine());
  return stream;
}

// Below this many multiply-adds a convolution runs on the calling thread alone: waking OpenMP's other threads costs
// more than they save (AutoAttack's 8-image batches of a small model, docs/performance-notes.md #28).
constexpr double kSerialMultiplyAdds = 2e7;
// OpenMP's thread count when the library loaded (OMP_NUM_THREADS, else every core), before any call changed it
const int kThreads = omp_get_max_threads();

/** One convolution's geometry; also the key of the primitive caches. */
struct Geometry {
  int64_t n, h, w, c, kh, kw, co, oh, ow;
  int64_t strides[2], pads[4], dilations[2];
  bool affine = false, relu = false, residual = false;

  double multiplyAdds() const {
    return static_cast<double>(n) * oh * ow * co * c * kh * kw;
  }
  /** The threads it runs on; oneDNN fixes them when it makes the primitive, so they are part of the key. */
  int threads() const { return multiplyAdds() < kSerialMultiplyAdds ? 1 : kThreads; }
  std::vector<int64_t> key() const {
    return {n, h, w, c, kh, kw, co, strides[0], strides[1], pads[0], pads[1], pads[2], pads[3], dilations[0],
            dilations[1], threads(), affine, relu, residual};
  }
  /** The input and output, NHWC as TensorFlow holds them (`Tag::any`: the layout a primitive chooses). */
  memory::desc source(Tag tag = Tag::nhwc) const { return memory::desc({n, c, h, w}, kFloat, tag); }
  memory::desc result(Tag tag = Tag::nhwc) const { return memory::desc({n, co, oh, ow}, kFloat, tag); }
  memory::desc filter(Tag tag) const { return memory::desc({co, c, kh, kw}, kFloat, tag); }
  /** A per-output-channel vector: the affine op's scale and shift (the shift is the convolution's bias). */
  memory::desc perChannel() const { return memory::desc({co}, kFloat, Tag::x); }
  memory::dims strideDims() const { return {strides[0], strides[1]}; }
  // oneDNN counts dilation from 0 (no dilation), TensorFlow from 1
  memory::dims dilationDims() const { return {dilations[0] - 1, dilations[1] - 1}; }
  memory::dims padBefore() const { return {pads[0], pads[2]}; }
  memory::dims padAfter() const { return {pads[1], pads[3]}; }
};

/** The attrs every op here has, read once when TensorFlow makes the kernel. */
struct Attrs {
  int64_t strides[2] = {1, 1};
  int64_t pads[4] = {0, 0, 0, 0};
  int64_t dilations[2] = {1, 1};
  int64_t filterShape[4] = {0, 0, 0, 0};
  /** MocoConv2DAffine: the per-channel scale folded into the filter, the shift as the bias, the ReLU a post-op. */
  bool affine = false;
  bool relu = false;
  /** MocoConv2DAffineResidual: a fifth input added before the ReLU. */
  bool residual = false;
};

enum class Kind { kForward, kAffine, kAffineResidual, kBackwardFilter };

void* createKernel(TF_OpKernelConstruction* ctx, Kind kind) {
  auto attrs = std::make_unique<Attrs>();
  TF_Status* status = TF_NewStatus();
  TF_Bool relu = 0;
  attrs->affine = kind == Kind::kAffine || kind == Kind::kAffineResidual;
  attrs->residual = kind == Kind::kAffineResidual;
  bool ok = readList(ctx, "strides", attrs->strides, 2, status) && readList(ctx, "pads", attrs->pads, 4, status) &&
            readList(ctx, "dilations", attrs->dilations, 2, status) &&
            (kind != Kind::kBackwardFilter || readList(ctx, "filter_shape", attrs->filterShape, 4, status));
  if (ok && attrs->affine) {
    TF_OpKernelConstruction_GetAttrBool(ctx, "relu", &relu, status);
    ok = TF_GetCode(status) == TF_OK;
    attrs->relu = relu != 0;
  }
  if (!ok) TF_OpKernelConstruction_Failure(ctx, status);
  TF_DeleteStatus(status);
  return ok ? attrs.release() : nullptr;
}

void deleteKernel(void* kernel) { delete static_cast<Attrs*>(kernel); }

/** `tensor` if `wanted`, else null after reporting `expected` and deleting it. */
TF_Tensor* checked(TF_OpKernelContext* ctx, TF_Tensor* tensor, bool wanted, const std::string& expected) {
  if (tensor == nullptr || wanted) return tensor;
  fail(ctx, TF_INVALID_ARGUMENT, expected);
  TF_DeleteTensor(tensor);
  return nullptr;
}

/** Input `index` as a float tensor of rank 4, or null after reporting why. Owned by the caller. */
TF_Tensor* input4D(TF_OpKernelContext* ctx, int index, const char* name) {
  TF_Tensor* tensor = getInput(ctx, index);
  return checked(ctx, tensor, tensor && TF_TensorType(tensor) == TF_FLOAT && TF_NumDims(tensor) == 4,
                 std::string(name) + " must be a float32 tensor of rank 4");
}

/** Input `index` as a float vector of `length` values, or null after reporting why. Owned by the caller. */
TF_Tensor* channelVector(TF_OpKernelContext* ctx, int index, const char* name, int64_t length) {
  TF_Tensor* tensor = getInput(ctx, index);
  return checked(ctx, tensor,
                 tensor && TF_TensorType(tensor) == TF_FLOAT && TF_NumDims(tensor) == 1 && TF_Dim(tensor, 0) == length,
                 std::string(name) + " must be a float32 vector of the filter's " + std::to_string(length) +
                     " output channels");
}

/** The geometry of `input` convolved with a filter of `filterShape` [kh, kw, in, out], or false after reporting. */
bool geometry(TF_OpKernelContext* ctx, const Attrs& attrs, TF_Tensor* input, const int64_t* filterShape, Geometry* g) {
  *g = Geometry{TF_Dim(input, 0), TF_Dim(input, 1), TF_Dim(input, 2), TF_Dim(input, 3), filterShape[0], filterShape[1],
                filterShape[3], 0, 0, {attrs.strides[0], attrs.strides[1]},
                {attrs.pads[0], attrs.pads[1], attrs.pads[2], attrs.pads[3]},
                {attrs.dilations[0], attrs.dilations[1]}};
  if (filterShape[2] != g->c) {
    fail(ctx, TF_INVALID_ARGUMENT,
         "the filter's input channels (" + std::to_string(filterShape[2]) + ") must equal the input's (" +
             std::to_string(g->c) + ")");
    return false;
  }
  const int64_t reachH = (g->kh - 1) * g->dilations[0] + 1, reachW = (g->kw - 1) * g->dilations[1] + 1;
  const int64_t spanH = g->h + g->pads[0] + g->pads[1] - reachH, spanW = g->w + g->pads[2] + g->pads[3] - reachW;
  if (g->strides[0] < 1 || g->strides[1] < 1 || g->dilations[0] < 1 || g->dilations[1] < 1 || spanH < 0 ||
      spanW < 0) {
    fail(ctx, TF_INVALID_ARGUMENT, "strides and dilations must be ≥ 1 and the padded input must hold the filter");
    return false;
  }
  g->oh = spanH / g->strides[0] + 1;
  g->ow = spanW / g->strides[1] + 1;
  g->affine = attrs.affine;
  g->relu = attrs.relu;
  g->residual = attrs.residual;
  return true;
}

/** Whether the residual has the output's shape; false after reporting. */
bool residualFits(TF_OpKernelContext* ctx, TF_Tensor* residual, const std::vector<int64_t>& dims) {
  for (int i = 0; i < 4; ++i)
    if (TF_Dim(residual, i) != dims[i]) {
      fail(ctx, TF_INVALID_ARGUMENT,
           "residual must have the output's shape [" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) +
               ", " + std::to_string(dims[2]) + ", " + std::to_string(dims[3]) + "]");
      return false;
    }
  return true;
}

/** A forward convolution, made once per geometry: the primitive and, when it wants another filter layout, the
 * reorder into it with its buffer; for Winograd's, also the activations' reorders to and from its blocked layout. */
struct Forward {
  dnnl::convolution_forward primitive;
  memory::desc filterDesc;
  std::unique_ptr<dnnl::reorder> filterReorder;
  std::unique_ptr<memory> filterBuffer;
  /** The affine op's filter·scale, in HWIO. */
  std::unique_ptr<memory> scaledFilter;
  /** Winograd only: NHWC → the blocked source, the blocked result → NHWC (the residual goes in by the first). */
  std::unique_ptr<dnnl::reorder> sourceReorder, resultReorder, residualReorder;
  memory::desc sourceDesc, resultDesc;
  /** oneDNN's name for the implementation it picked, for `forwardImplementations()`. */
  std::string implementation;
};

/** A filter gradient, made once per geometry, with the reorder from its layout to HWIO when they differ. */
struct BackwardFilter {
  dnnl::convolution_backward_weights primitive;
  memory::desc gradientDesc;
  std::unique_ptr<dnnl::reorder> gradientReorder;
  std::unique_ptr<memory> gradientBuffer;
  /** Winograd only: the input and dy from NHWC into its blocked layout. */
  std::unique_ptr<dnnl::reorder> sourceReorder, dyReorder;
  memory::desc sourceDesc, dyDesc;
};

std::mutex cacheMutex;  // tfjs calls from one thread; TensorFlow may not
std::map<std::vector<int64_t>, std::unique_ptr<Forward>> forwards;
std::map<std::vector<int64_t>, std::unique_ptr<BackwardFilter>> backwardFilters;

/**
 * The filter layout a forward convolution asks for: oneDNN's choice (`any`: its BRGEMM convolution, 360–435
 * GFLOP/s on ResNet-18's 3×3 shapes at 8×8 and up on 2 AVX-512 cores) except for stride-1 convolutions with at most
 * 16 output positions, where HWIO leads oneDNN to its im2col GEMM: 262–285 GFLOP/s against BRGEMM's 193–197 for
 * ResNet-18's 512-channel 4×4 layer at batch 8 to 128 (docs/performance-notes.md #28).
 */
Tag forwardFilterTag(const Geometry& g) {
  return g.strides[0] == 1 && g.strides[1] == 1 && g.kh * g.kw > 1 && g.oh * g.ow <= 16 ? Tag::hwio : Tag::any;
}

/**
 * The affine op's scale and shift are not binary post-ops: with them oneDNN's im2col GEMM convolution ran 2.1× (3×3)
 * and 4× (1×1) slower at ResNet-18's 4×4 layer, BRGEMM's 1×1 convolutions ≈25 % slower (docs/performance-notes.md
 * #30). A bias and an eltwise post-op every implementation runs in its own output kernel.
 */
dnnl::convolution_forward::primitive_desc forwardDesc(const Geometry& g, dnnl::prop_kind kind,
                                                      bool winograd = false) {
  const auto filter = g.filter(winograd ? Tag::any : forwardFilterTag(g));
  const auto source = g.source(winograd ? Tag::any : Tag::nhwc), result = g.result(winograd ? Tag::any : Tag::nhwc);
  const auto algorithm = winograd ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
  const auto desc = g.affine ? dnnl::convolution_forward::desc(kind, algorithm, source, filter, g.perChannel(), result,
                                                               g.strideDims(), g.dilationDims(), g.padBefore(),
                                                               g.padAfter())
                             : dnnl::convolution_forward::desc(kind, algorithm, source, filter, result,
                                                               g.strideDims(), g.dilationDims(), g.padBefore(),
                                                               g.padAfter());
  dnnl::primitive_attr attr;
  dnnl::post_ops ops;
  if (g.residual) ops.append_sum(1.f);  // dst = conv + bias + dst as it was (the residual copied in)
  if (g.relu) ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  if (g.residual || g.relu) attr.set_post_ops(ops);
  return dnnl::convolution_forward::primitive_desc(desc, attr, cpuEngine());
}

/** filter·scale per output channel (HWIO: the output channel is the innermost axis), on `threads` threads. */
void scaleFilter(const float* filter, const float* scale, float* scaled, int64_t rows, int64_t channels, int threads) {
#pragma omp parallel for num_threads(threads) if (rows * channels >= (1 << 18))
  for (int64_t r = 0; r < rows; ++r) {
    const float* from = filter + r * channels;
    float* to = scaled + r * channels;
#pragma omp simd
    for (int64_t o = 0; o < channels; ++o) to[o] = from[o] * scale[o];
  }
}

/** MOCO_ROBUST_WINOGRAD=0: every convolution direct (read when the first primitive is made). */
bool winogradOff() {
  static const bool off = std::getenv("MOCO_ROBUST_WINOGRAD") != nullptr &&
                          std::string(std::getenv("MOCO_ROBUST_WINOGRAD")) == "0";
  return off;
}

/**
 * Whether a convolution runs as Winograd's F(4×4, 3×3): 3×3, stride 1, undilated, padded by 1 on every side (a
 * ResNet's stride-1 convolutions and their input gradients), with at least 64 input and output channels (multiples
 * of 16), at least 512 output positions over the batch and positions × channels ≥ 65,536. There oneDNN's Winograd
 * convolution (AVX-512 only; elsewhere making it fails and the direct one runs) does a quarter of the multiplies:
 * with the reorders of activations and filter each call, 0.56–0.60× the time of its direct convolution at
 * ResNet-18's shapes at batch 32, 0.37–0.68× at 128, 0.77–0.98× near the bounds; with fewer positions or channels
 * it is slower (up to 7×; 16 channels: 1.2–1.7×) (docs/performance-notes.md #33). Its results differ from the
 * direct convolution's by rounding (≈ 2·10⁻⁶ relative). forward_training because the inference kind wants the
 * filter already transformed.
 */
bool winogradFits(const Geometry& g) {
  const int64_t positions = g.n * g.oh * g.ow, channels = std::min(g.c, g.co);
  return g.kh == 3 && g.kw == 3 && g.strides[0] == 1 && g.strides[1] == 1 && g.dilations[0] == 1 &&
         g.dilations[1] == 1 && g.pads[0] == 1 && g.pads[1] == 1 && g.pads[2] == 1 && g.pads[3] == 1 &&
         g.c % 16 == 0 && g.co % 16 == 0 && channels >= 64 && positions >= 512 && positions * channels >= 65536 &&
         !winogradOff();
}

/**
 * `make(true)` (Winograd's primitive) where {@link winogradFits} and oneDNN has an implementation (AVX-512), else
 * `make(false)` (the direct one); `*winograd` says which.
 */
template <typename Make>
auto winogradOrDirect(const Geometry& g, Make make, bool* winograd) {
  *winograd = winogradFits(g);
  if (*winograd) try {
      return make(true);
    } catch (const dnnl::error&) {
      *winograd = false;
    }
  return make(false);
}

std::unique_ptr<dnnl::reorder> reorder(const memory::desc& from, const memory::desc& to) {
  return std::make_unique<dnnl::reorder>(dnnl::reorder::primitive_desc(cpuEngine(), from, cpuEngine(), to));
}

Forward& forward(const Geometry& g) {
  auto& slot = forwards[g.key()];
  if (!slot) {
    bool winograd = false;
    const auto pd = winogradOrDirect(
        g,
        [&](bool wino) {
          return wino ? forwardDesc(g, dnnl::prop_kind::forward_training, true)
                      : forwardDesc(g, dnnl::prop_kind::forward_inference);
        },
        &winograd);
    auto made = std::unique_ptr<Forward>(new Forward{dnnl::convolution_forward(pd), pd.weights_desc()});
    made->implementation = pd.impl_info_str();
    if (winograd) {
      made->sourceDesc = pd.src_desc();
      made->resultDesc = pd.dst_desc();
      made->sourceReorder = reorder(g.source(), pd.src_desc());
      made->resultReorder = reorder(pd.dst_desc(), g.result());
      if (g.residual) made->residualReorder = reorder(g.result(), pd.dst_desc());
    }
    if (g.affine) made->scaledFilter = std::make_unique<memory>(g.filter(Tag::hwio), cpuEngine());
    if (pd.weights_desc() != g.filter(Tag::hwio)) {
      made->filterBuffer = std::make_unique<memory>(pd.weights_desc(), cpuEngine());
      made->filterReorder = reorder(g.filter(Tag::hwio), pd.weights_desc());
    }
    slot = std::move(made);
  }
  return *slot;
}

BackwardFilter& backwardFilter(const Geometry& g) {
  auto& slot = backwardFilters[g.key()];
  if (!slot) {
    bool winograd = false;
    const auto pd = winogradOrDirect(
        g,
        [&](bool wino) {
          const auto activations = wino ? Tag::any : Tag::nhwc;
          const dnnl::convolution_backward_weights::desc desc(
              wino ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct,
              g.source(activations), g.filter(Tag::any), g.result(activations), g.strideDims(), g.dilationDims(),
              g.padBefore(), g.padAfter());
          return dnnl::convolution_backward_weights::primitive_desc(
              desc, cpuEngine(), forwardDesc(g, dnnl::prop_kind::forward_training, wino));
        },
        &winograd);
    auto made = std::unique_ptr<BackwardFilter>(
        new BackwardFilter{dnnl::convolution_backward_weights(pd), pd.diff_weights_desc()});
    if (winograd) {
      made->sourceDesc = pd.src_desc();
      made->dyDesc = pd.diff_dst_desc();
      made->sourceReorder = reorder(g.source(), pd.src_desc());
      made->dyReorder = reorder(g.result(), pd.diff_dst_desc());
    }
    if (pd.diff_weights_desc() != g.filter(Tag::hwio)) {
      made->gradientBuffer = std::make_unique<memory>(pd.diff_weights_desc(), cpuEngine());
      made->gradientReorder = reorder(pd.diff_weights_desc(), g.filter(Tag::hwio));
    }
    slot = std::move(made);
  }
  return *slot;
}

/**
 * Memory of `desc` on one of two buffers every Winograd call borrows for its blocked activations (calls are
 * serialised by cacheMutex), each grown to the largest asked for — not a pair kept per geometry.
 */
memory blocked(int which, const memory::desc& desc) {
  struct Free {
    void operator()(void* data) const { std::free(data); }
  };
  static std::unique_ptr<void, Free> buffers[2];
  static size_t sizes[2] = {0, 0};
  const size_t bytes = (desc.get_size() + 63) / 64 * 64;
  if (bytes > sizes[which]) {
    buffers[which].reset();  // freed before the larger one is taken
    buffers[which].reset(std::aligned_alloc(64, bytes));
    if (!buffers[which]) throw std::bad_alloc();
    sizes[which] = bytes;
  }
  return memory(desc, cpuEngine(), buffers[which].get());
}

void computeForward(void* kernel, TF_OpKernelContext* ctx) {
  const Attrs& attrs = *static_cast<Attrs*>(kernel);
  const Tensor input(input4D(ctx, 0, "input"));
  const Tensor filter(input ? input4D(ctx, 1, "filter") : nullptr);
  if (!filter) return;  // the failure is reported
  Tensor scale, shift, residual;
  if (attrs.affine) {
    scale.reset(channelVector(ctx, 2, "scale", TF_Dim(filter.get(), 3)));
    shift.reset(scale ? channelVector(ctx, 3, "shift", TF_Dim(filter.get(), 3)) : nullptr);
    if (!shift) return;
  }
  if (attrs.residual) {
    residual.reset(input4D(ctx, 4, "residual"));
    if (!residual) return;
  }
  const int64_t filterShape[4] = {TF_Dim(filter.get(), 0), TF_Dim(filter.get(), 1), TF_Dim(filter.get(), 2),
                                  TF_Dim(filter.get(), 3)};
  Geometry g;
  if (!geometry(ctx, attrs, input.get(), filterShape, &g)) return;
  if (residual && !residualFits(ctx, residual.get(), {g.n, g.oh, g.ow, g.co})) return;
  const Tensor output(allocate(ctx, {g.n, g.oh, g.ow, g.co}));
  if (!output || TF_TensorElementCount(output.get()) == 0) return;
  try {
    std::lock_guard<std::mutex> lock(cacheMutex);
    omp_set_num_threads(g.threads());
    Forward& f = forward(g);
    auto& stream = cpuStream();
    memory userFilter(g.filter(Tag::hwio), cpuEngine(), TF_TensorData(filter.get()));
    if (g.affine) {
      scaleFilter(static_cast<const float*>(TF_TensorData(filter.get())),
                  static_cast<const float*>(TF_TensorData(scale.get())),
                  static_cast<float*>(f.scaledFilter->get_data_handle()), g.kh * g.kw * g.c, g.co, g.threads());
      userFilter = *f.scaledFilter;
    }
    if (f.filterReorder) f.filterReorder->execute(stream, userFilter, *f.filterBuffer);
    memory source(g.source(), cpuEngine(), TF_TensorData(input.get()));
    memory result(g.result(), cpuEngine(), TF_TensorData(output.get()));
    memory blockedSource = f.sourceReorder ? blocked(0, f.sourceDesc) : source;
    memory blockedResult = f.resultReorder ? blocked(1, f.resultDesc) : result;
    if (f.sourceReorder) f.sourceReorder->execute(stream, source, blockedSource);
    std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, blockedSource},
                                            {DNNL_ARG_WEIGHTS, f.filterReorder ? *f.filterBuffer : userFilter},
                                            {DNNL_ARG_DST, blockedResult}};
    if (g.affine) args.emplace(DNNL_ARG_BIAS, memory(g.perChannel(), cpuEngine(), TF_TensorData(shift.get())));
    if (residual && f.residualReorder) {
      memory shortcut(g.result(), cpuEngine(), TF_TensorData(residual.get()));
      f.residualReorder->execute(stream, shortcut, blockedResult);
    } else if (residual) {
      std::memcpy(TF_TensorData(output.get()), TF_TensorData(residual.get()), TF_TensorByteSize(output.get()));
    }
    f.primitive.execute(stream, args);
    if (f.resultReorder) f.resultReorder->execute(stream, blockedResult, result);
    stream.wait();
  } catch (const std::exception& error) {  // oneDNN's errors, or no memory for a buffer
    fail(ctx, TF_INTERNAL, std::string("oneDNN convolution failed: ") + error.what());
  }
}

void computeBackwardFilter(void* kernel, TF_OpKernelContext* ctx) {
  const Attrs& attrs = *static_cast<Attrs*>(kernel);
  const Tensor input(input4D(ctx, 0, "input"));
  const Tensor dy(input ? input4D(ctx, 1, "dy") : nullptr);
  if (!dy) return;  // the failure is reported
  Geometry g;
  if (!geometry(ctx, attrs, input.get(), attrs.filterShape, &g)) return;
  if (TF_Dim(dy.get(), 0) != g.n || TF_Dim(dy.get(), 1) != g.oh || TF_Dim(dy.get(), 2) != g.ow ||
      TF_Dim(dy.get(), 3) != g.co) {
    fail(ctx, TF_INVALID_ARGUMENT,
         "dy must have the convolution's output shape [" + std::to_string(g.n) + ", " + std::to_string(g.oh) + ", " +
             std::to_string(g.ow) + ", " + std::to_string(g.co) + "]");
    return;
  }
  const Tensor output(allocate(ctx, {g.kh, g.kw, g.c, g.co}));
  if (!output || TF_TensorElementCount(output.get()) == 0) return;
  if (g.n == 0 || g.oh == 0 || g.ow == 0) {  // nothing to sum: no primitive made for an empty batch
    std::memset(TF_TensorData(output.get()), 0, TF_TensorByteSize(output.get()));
    return;
  }
  try {
    std::lock_guard<std::mutex> lock(cacheMutex);
    omp_set_num_threads(g.threads());
    BackwardFilter& b = backwardFilter(g);
    auto& stream = cpuStream();
    memory userGradient(g.filter(Tag::hwio), cpuEngine(), TF_TensorData(output.get()));
    memory source(g.source(), cpuEngine(), TF_TensorData(input.get()));
    memory gradient(g.result(), cpuEngine(), TF_TensorData(dy.get()));
    memory& result = b.gradientReorder ? *b.gradientBuffer : userGradient;
    memory blockedSource = b.sourceReorder ? blocked(0, b.sourceDesc) : source;
    memory blockedGradient = b.sourceReorder ? blocked(1, b.dyDesc) : gradient;
    if (b.sourceReorder) {
      b.sourceReorder->execute(stream, source, blockedSource);
      b.dyReorder->execute(stream, gradient, blockedGradient);
    }
    b.primitive.execute(stream, {{DNNL_ARG_SRC, blockedSource},
                                 {DNNL_ARG_DIFF_DST, blockedGradient},
                                 {DNNL_ARG_DIFF_WEIGHTS, result}});
    if (b.gradientReorder) b.gradientReorder->execute(stream, *b.gradientBuffer, userGradient);
    stream.wait();
  } catch (const std::exception& error) {  // oneDNN's errors, or no memory for a buffer
    fail(ctx, TF_INTERNAL, std::string("oneDNN filter gradient failed: ") + error.what());
  }
}

/** Registers one op and its CPU kernel; false (with `status` set) when TensorFlow refuses. */
bool registerOp(const char* name, const std::vector<const char*>& inputs, const std::vector<const char*>& attrs,
                void* (*create)(TF_OpKernelConstruction*), void (*compute)(void*, TF_OpKernelContext*),
                TF_Status* status) {
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder(name);
  for (const char* input : inputs) TF_OpDefinitionBuilderAddInput(op, input);
  TF_OpDefinitionBuilderAddOutput(op, "output: float");
  for (const char* attr : attrs) TF_OpDefinitionBuilderAddAttr(op, attr);
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK) return false;
  TF_KernelBuilder* kernel = TF_NewKernelBuilder(name, "CPU", create, compute, &deleteKernel);
  TF_RegisterKernelBuilder((std::string(name) + "Kernel").c_str(), kernel, status);
  return TF_GetCode(status) == TF_OK;
}

void* createForward(TF_OpKernelConstruction* ctx) { return createKernel(ctx, Kind::kForward); }
void* createAffine(TF_OpKernelConstruction* ctx) { return createKernel(ctx, Kind::kAffine); }
void* createAffineResidual(TF_OpKernelConstruction* ctx) { return createKernel(ctx, Kind::kAffineResidual); }
void* createBackwardFilter(TF_OpKernelConstruction* ctx) { return createKernel(ctx, Kind::kBackwardFilter); }

napi_value throwError(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, message.c_str());
  return nullptr;
}

/**
 * `forwardImplementations()`: one string per forward convolution made so far, "input [n, h, w, c], filter
 * [kh, kw, c, co], strides [sh, sw][ + scale, shift][ + residual][ + ReLU]: <oneDNN's implementation>" — which
 * algorithm each geometry runs on this CPU.
 */
napi_value forwardImplementations(napi_env env, napi_callback_info) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  napi_value list;
  if (napi_create_array(env, &list) != napi_ok) return throwError(env, "could not make an array");
  uint32_t index = 0;
  for (const auto& [key, made] : forwards) {
    const auto dims = [&](std::initializer_list<size_t> at) {
      std::string text = "[";
      for (size_t i : at) text += (text.size() > 1 ? ", " : "") + std::to_string(key[i]);
      return text + "]";
    };
    const std::string fused = std::string(key[16] ? " + scale, shift" : "") + (key[18] ? " + residual" : "") +
                              (key[17] ? " + ReLU" : "");
    const std::string text = "input " + dims({0, 1, 2, 3}) + ", filter " + dims({4, 5, 3, 6}) + ", strides " +
                             dims({7, 8}) + fused + ": " + made->implementation;
    napi_value value;
    if (napi_create_string_utf8(env, text.c_str(), text.size(), &value) != napi_ok ||
        napi_set_element(env, list, index++, value) != napi_ok)
      return throwError(env, "could not list the implementations");
  }
  return list;
}

}  // namespace

// compiled into the same addon: FAB's projection step (linf-box-projection.cc), average pooling over non-overlapping
// windows and its gradient (average-pool.cc)
bool registerLinfBoxProjection(TF_Status* status);
bool registerAveragePool(TF_Status* status);

NAPI_MODULE_INIT() {
  TF_Status* status = TF_NewStatus();
  const std::vector<const char*> geometryAttrs = {"strides: list(int)", "pads: list(int)", "dilations: list(int)"};
  std::vector<const char*> filterAttrs = geometryAttrs, affineAttrs = geometryAttrs;
  filterAttrs.push_back("filter_shape: list(int)");
  affineAttrs.push_back("relu: bool");
  const bool ok =
      registerOp("MocoConv2D", {"input: float", "filter: float"}, geometryAttrs, &createForward, &computeForward,
                 status) &&
      registerOp("MocoConv2DAffine", {"input: float", "filter: float", "scale: float", "shift: float"}, affineAttrs,
                 &createAffine, &computeForward, status) &&
      registerOp("MocoConv2DAffineResidual",
                 {"input: float", "filter: float", "scale: float", "shift: float", "residual: float"}, affineAttrs,
                 &createAffineResidual, &computeForward, status) &&
      registerOp("MocoConv2DBackpropFilter", {"input: float", "dy: float"}, filterAttrs, &createBackwardFilter,
                 &computeBackwardFilter, status) &&
      registerLinfBoxProjection(status) && registerAveragePool(status);
  const std::string message = ok ? "" : TF_Message(status);
  TF_DeleteStatus(status);
  if (!ok) return throwError(env, "registering the oneDNN convolution ops with TensorFlow failed: " + message);
  const dnnl_version_t* version = dnnl_version();
  const std::string text =
      std::to_string(version->major) + "." + std::to_string(version->minor) + "." + std::to_string(version->patch);
  napi_value value;
  if (napi_create_string_utf8(env, text.c_str(), text.size(), &value) != napi_ok ||
      napi_set_named_property(env, exports, "onednnVersion", value) != napi_ok)
    return throwError(env, "could not export onednnVersion");
  napi_value listing;
  if (napi_create_function(env, "forwardImplementations", NAPI_AUTO_LENGTH, forwardImplementations, nullptr,
                           &listing) != napi_ok ||
      napi_set_named_property(env, exports, "forwardImplementations", listing) != napi_ok)
    return throwError(env, "could not export forwardImplementations");
  return exports;
}
