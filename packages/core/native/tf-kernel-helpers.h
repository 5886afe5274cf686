// Helpers the addon's TensorFlow C-API kernels share (onednn-convolution.cc, linf-box-projection.cc,
// average-pool.cc): reading a list attr of a known length, and reporting a kernel's failure.
#pragma once

#include <cstdint>
#include <string>

#include "tensorflow/c/kernels.h"
#include "tensorflow/c/tf_status.h"

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

}  // namespace moco
