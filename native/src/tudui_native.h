// What the addon's source files share beyond napi_util.h: the oneDNN engine and stream, and each file's exports.
#pragma once
#include <node_api.h>

#include "oneapi/dnnl/dnnl.hpp"

namespace tudui {
dnnl::engine& eng();
dnnl::stream& strm();
// eltwise.cc: activations, softmax, batch norm, broadcasting binary ops, pad/slice.
void register_eltwise(napi_env env, napi_value exports);
}  // namespace tudui
