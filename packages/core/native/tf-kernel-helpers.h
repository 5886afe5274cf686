// Helpers the addon's TensorFlow C-API kernels share (onednn-convolution.cc, linf-box-projection.cc,
// average-pool.cc): reading a list attr of a known length, reporting a kernel's failure, taking an input and
// allocating the float output, and owning a TF_Tensor.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/tf_status.h"
#include "tensorflow/c/tf_tensor.h"

namespace moco {

/** Reads int list attr `name`, which must have `count` values, into `values`; false (with `status` set) if not. */
inline bool readList(TF_OpKernelConstruction* ctx, const char* name, int64_t* values, int count, TF_Status* status) {
  int32_t listSize = 0, totalSize = 0;
  TF_OpKernelConstruction_GetAttrSize(ctx, name, &listSize, &totalSize, status);
  if (TF_GetCode(status) != TF_OK) return false;
  if (listSize != count) {
    const std::string message = std::string("attr ") + name + " must have " + std::to_string(count) +
                                " values, got " + std::to_string(listSize);
    TF_SetStatus(status, TF_INVALID_ARGUMENT, message.c_str());
    return false;
  }
  TF_OpKernelConstruction_GetAttrInt64List(ctx, name, values, count, status);
  return TF_GetCode(status) == TF_OK;
}

/** Fails the kernel's call with `code` and `message` (TensorFlow raises it as the op's error). */
inline void fail(TF_OpKernelContext* ctx, TF_Code code, const std::string& message) {
  TF_Status* status = TF_NewStatus();
  TF_SetStatus(status, code, message.c_str());
  TF_OpKernelContext_Failure(ctx, status);
  TF_DeleteStatus(status);
}

/** A TF_Tensor the kernel owns, deleted when it goes out of scope. */
struct DeleteTensor {
  void operator()(TF_Tensor* tensor) const { TF_DeleteTensor(tensor); }
};
using Tensor = std::unique_ptr<TF_Tensor, DeleteTensor>;

/** Input `index`, or null after reporting why. Owned by the caller. */
inline TF_Tensor* getInput(TF_OpKernelContext* ctx, int index) {
  TF_Tensor* tensor = nullptr;
  TF_Status* status = TF_NewStatus();
  TF_GetInput(ctx, index, &tensor, status);
  const bool ok = TF_GetCode(status) == TF_OK;
  if (!ok) TF_OpKernelContext_Failure(ctx, status);
  TF_DeleteStatus(status);
  return ok ? tensor : nullptr;
}

/** The kernel's float32 output of shape `dims`, or null after reporting why. Owned by the caller. */
inline TF_Tensor* allocate(TF_OpKernelContext* ctx, const std::vector<int64_t>& dims) {
  size_t bytes = sizeof(float);
  for (int64_t d : dims) bytes *= static_cast<size_t>(d);
  TF_Status* status = TF_NewStatus();
  TF_Tensor* output = TF_AllocateOutput(ctx, 0, TF_FLOAT, dims.data(), static_cast<int>(dims.size()), bytes, status);
  if (TF_GetCode(status) != TF_OK) {
    TF_OpKernelContext_Failure(ctx, status);
    output = nullptr;
  }
  TF_DeleteStatus(status);
  return output;
}

}  // namespace moco
