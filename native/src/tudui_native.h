// What the addon's source files share beyond napi_util.h: the oneDNN engine and stream, a primitive cache, and each
// file's exports (registered by the module glue, tudui_native.cc).
#pragma once
#include <node_api.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "oneapi/dnnl/dnnl.hpp"

namespace tudui {
dnnl::engine& eng();
dnnl::stream& strm();

// oneDNN primitives of one kind T, created once per key (kind, shape, parameters) and kept.
template <typename T>
std::shared_ptr<T> cached(const std::string& key, const std::function<std::shared_ptr<T>()>& make) {
  static std::unordered_map<std::string, std::shared_ptr<T>> c;
  auto it = c.find(key);
  if (it != c.end()) return it->second;
  if (c.size() >= 1024) c.clear();  // shapes are few in practice
  auto e = make();
  c[key] = e;
  return e;
}

inline dnnl::memory::desc flat_md(int64_t n) {
  return dnnl::memory::desc({n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::x);
}
inline dnnl::memory::desc rows_md(int64_t rows, int64_t cols) {
  return dnnl::memory::desc({rows, cols}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nc);
}

// Each returns false when N-API refused an export.
bool register_conv(napi_env env, napi_value exports);       // conv.cc: convolution forward and both gradients
bool register_pooling(napi_env env, napi_value exports);    // pooling.cc: max and average pooling, gradients
bool register_blas(napi_env env, napi_value exports);       // blas.cc: matrix product, axis sums, bias add
bool register_batchnorm(napi_env env, napi_value exports);  // batchnorm.cc: batch norm forward and gradient
bool register_eltwise(napi_env env, napi_value exports);    // eltwise.cc: activations, softmax, broadcasting
                                                            // arithmetic, pad/slice, dropout mask, optimizer steps
}  // namespace tudui
