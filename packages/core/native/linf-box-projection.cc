// FAB's projection step for the native CPU backend, registered as a TensorFlow op beside the oneDNN convolutions
// (built into the same addon; `registerLinfBoxProjection` is called when it loads).
//
//   MocoLinfBoxProjection(points [n, D], w [n, D], b [n]) -> step [n, D]
//
// Per row: the L∞-smallest step d with w·(t + d) = b and t + d in the box [0, 1]ᴰ; where no point of the box is on
// the hyperplane, the step to the box corner closest to it (Croce & Hein, ICML 2020). The step is d_i = ±min(λ, p_i),
// p_i the room to the box edge in the direction that moves w·z towards b, and λ the smallest with
// F(λ) = Σ |w_i|·min(λ, p_i) ≥ the distance w·z must move. tfjs's formulation (`linfHyperplaneBoxProjection` in
// @moco-robust/attacks) brackets λ by 26 bisection halvings of batched ops, then solves it on the piece bracketed:
// ≈ 230 kernels a call, 4.8 ms at AutoAttack's FAB-T shapes (16 rows of 3,072) for arithmetic worth microseconds.
// Here the same computation runs per row in four-wide loops, one call.
#include <algorithm>
#include <cmath>
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

// Four floats in one SIMD register (SSE on x86-64, NEON on arm64), through GCC's and Clang's vector extensions: every
// loop below is branch-free and four-wide (the branchy scalar version spent 90 µs a row on mispredicted signs).
typedef float Vector __attribute__((vector_size(16)));
constexpr int kLanes = 4;

inline Vector load(const float* from) {
  Vector v;
  std::memcpy(&v, from, sizeof v);
  return v;
}
inline Vector splat(float value) { return Vector{value, value, value, value}; }
inline Vector minimum(Vector a, Vector b) { return a < b ? a : b; }
inline double total(Vector v) { return double(v[0]) + v[1] + v[2] + v[3]; }

/** One row, padded to whole vectors with zeros: the point, w, each coordinate's room to the edge it moves to and |w_i|. */
struct Scratch {
  std::vector<float> point, w, room, weight;
};

/** Σ weight·min(room, λ) over the padded row (two sums, so that the adds overlap). */
double fall(const Scratch& s, float lambda) {
  Vector even = splat(0), odd = splat(0);
  const Vector l = splat(lambda);
  for (size_t i = 0; i < s.room.size(); i += 2 * kLanes) {
    even += load(&s.weight[i]) * minimum(load(&s.room[i]), l);
    odd += load(&s.weight[i + kLanes]) * minimum(load(&s.room[i + kLanes]), l);
  }
  return total(even) + total(odd);
}

/**
 * One row: `step` = the projection step of `point` onto w·z = b within the box, as tfjs's formulation computes it:
 * 26 bisection halvings of [0, largest room] bracket λ, then λ is solved exactly on the piece they bracket.
 */
void projectRow(const float* point, const float* w, float b, float* step, int64_t size, Scratch& s) {
  const size_t padded = (size + 2 * kLanes - 1) / (2 * kLanes) * (2 * kLanes);  // whole pairs of vectors
  for (auto* row : {&s.point, &s.w, &s.room, &s.weight}) row->assign(padded, 0);
  std::memcpy(s.point.data(), point, sizeof(float) * size);
  std::memcpy(s.w.data(), w, sizeof(float) * size);
  Vector products = splat(0);
  for (size_t i = 0; i < padded; i += kLanes) products += load(&s.w[i]) * load(&s.point[i]);
  // orient the hyperplane so that w·z has to fall by `wanted` ≥ 0; a coordinate with w_i < 0 then moves up
  const double product = total(products);
  const float orientation = product - b >= 0 ? 1.0f : -1.0f;
  const double wanted = (product - b) * orientation;
  Vector largestRoom = splat(0);
  for (size_t i = 0; i < padded; i += kLanes) {
    const Vector wo = load(&s.w[i]) * orientation, t = load(&s.point[i]);
    const Vector room = wo < 0 ? 1 - t : t, weight = wo < 0 ? -wo : wo;
    std::memcpy(&s.room[i], &room, sizeof room);
    std::memcpy(&s.weight[i], &weight, sizeof weight);
    largestRoom = largestRoom > room ? largestRoom : room;
  }
  const float largest = std::max(std::max(largestRoom[0], largestRoom[1]), std::max(largestRoom[2], largestRoom[3]));
  float low = 0, high = largest;
  for (int halving = 0; halving < 26; ++halving) {
    const float middle = (low + high) / 2;
    (fall(s, middle) >= wanted ? high : low) = middle;
  }
  // on the piece holding λ: rooms above the middle move by λ, the others to their edge
  const float middle = (low + high) / 2;
  Vector cappedWeight = splat(0), edgesFall = splat(0), everything = splat(0);
  for (size_t i = 0; i < padded; i += kLanes) {
    const Vector room = load(&s.room[i]), weight = load(&s.weight[i]);
    const Vector capped = room > splat(middle) ? weight : splat(0);
    cappedWeight += capped;
    edgesFall += (weight - capped) * room;
    everything += weight * room;
  }
  float lambda = 2;  // out of reach: every coordinate to its edge, the box corner closest to the hyperplane
  if (wanted <= total(everything))
    lambda = total(cappedWeight) > 0 ? float(std::max(wanted - total(edgesFall), 0.0) / total(cappedWeight)) : middle;
  // the step, into the point's scratch (free now), then the row's `size` values out
  for (size_t i = 0; i < padded; i += kLanes) {
    const Vector wo = load(&s.w[i]) * orientation, moved = minimum(load(&s.room[i]), splat(lambda));
    const Vector result = wo < 0 ? moved : wo > 0 ? -moved : splat(0);
    std::memcpy(&s.point[i], &result, sizeof result);
  }
  std::memcpy(step, s.point.data(), sizeof(float) * size);
}

std::string shapeOf(TF_Tensor* tensor) {
  std::string text = "[";
  for (int d = 0; d < TF_NumDims(tensor); ++d) text += (d ? ", " : "") + std::to_string(TF_Dim(tensor, d));
  return text + "]";
}

void* createProjection(TF_OpKernelConstruction*) { return nullptr; }
void deleteProjection(void*) {}

void computeProjection(void*, TF_OpKernelContext* ctx) {
  const moco::Tensor points(moco::getInput(ctx, 0));
  const moco::Tensor w(points ? moco::getInput(ctx, 1) : nullptr);
  const moco::Tensor b(w ? moco::getInput(ctx, 2) : nullptr);
  if (!b) return;  // the failure is reported
  // (ranks first: TF_Dim past a tensor's rank is not defined)
  if (TF_NumDims(points.get()) != 2 || TF_NumDims(w.get()) != 2 || TF_NumDims(b.get()) != 1 ||
      TF_Dim(w.get(), 0) != TF_Dim(points.get(), 0) || TF_Dim(w.get(), 1) != TF_Dim(points.get(), 1) ||
      TF_Dim(b.get(), 0) != TF_Dim(points.get(), 0)) {
    moco::fail(ctx, TF_INVALID_ARGUMENT,
               "MocoLinfBoxProjection: points and w must be [n, D] and b [n]; got points " + shapeOf(points.get()) +
                   ", w " + shapeOf(w.get()) + ", b " + shapeOf(b.get()));
    return;
  }
  const int64_t rows = TF_Dim(points.get(), 0), size = TF_Dim(points.get(), 1);
  const moco::Tensor output(moco::allocate(ctx, {rows, size}));
  if (!output) return;
  const auto* p = static_cast<const float*>(TF_TensorData(points.get()));
  const auto* wd = static_cast<const float*>(TF_TensorData(w.get()));
  const auto* bd = static_cast<const float*>(TF_TensorData(b.get()));
  auto* out = static_cast<float*>(TF_TensorData(output.get()));
  Scratch scratch;
  for (int64_t r = 0; r < rows; ++r) projectRow(p + r * size, wd + r * size, bd[r], out + r * size, size, scratch);
}

}  // namespace

/** Registers MocoLinfBoxProjection and its CPU kernel; false (with `status` set) when TensorFlow refuses. */
bool registerLinfBoxProjection(TF_Status* status) {
  TF_OpDefinitionBuilder* op = TF_NewOpDefinitionBuilder("MocoLinfBoxProjection");
  TF_OpDefinitionBuilderAddInput(op, "points: float");
  TF_OpDefinitionBuilderAddInput(op, "w: float");
  TF_OpDefinitionBuilderAddInput(op, "b: float");
  TF_OpDefinitionBuilderAddOutput(op, "step: float");
  TF_RegisterOpDefinition(op, status);
  if (TF_GetCode(status) != TF_OK) return false;
  TF_KernelBuilder* kernel =
      TF_NewKernelBuilder("MocoLinfBoxProjection", "CPU", &createProjection, &computeProjection, &deleteProjection);
  TF_RegisterKernelBuilder("MocoLinfBoxProjectionKernel", kernel, status);
  return TF_GetCode(status) == TF_OK;
}
