// tudui_native: oneDNN-backed kernels for the 'tudui-native' TensorFlow.js backend (src/backends/native.ts).
//
// Every entry point works synchronously on Float32Array views handed over from JS (zero copy): the JS side
// allocates the outputs, passes geometry as a small Int32Array, and the addon only computes. Layouts are the ones
// tfjs uses: activations NHWC, conv filters HWIO, matrices row-major. oneDNN is built on OpenMP in Debian, so its
// primitives and our OpenMP loops share one thread pool.
//
// One file per family: conv.cc, pooling.cc, blas.cc (matrix products, axis sums), batchnorm.cc, eltwise.cc
// (activations, softmax, broadcasting arithmetic, pad/slice, dropout mask, optimizer updates). This file is the
// module glue: the oneDNN engine and stream, info/setNumThreads, and the registration of every family's exports.
#include <node_api.h>

#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "oneapi/dnnl/dnnl.hpp"

#include "napi_util.h"
#include "tudui_native.h"

using namespace dnnl;

namespace tudui {
engine& eng() {
  static engine e(engine::kind::cpu, 0);
  return e;
}
stream& strm() {
  static stream s(eng());
  return s;
}
}  // namespace tudui

using namespace tudui;

namespace {

napi_value Info(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    const dnnl_version_t* v = dnnl_version();
    char buf[256];
    snprintf(buf, sizeof buf, "oneDNN %d.%d.%d, %d OpenMP threads, cpu isa %d", v->major, v->minor, v->patch,
             omp_get_max_threads(), int(get_effective_cpu_isa()));
    napi_value s;
    NAPI_CALL(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &s));
    return s;
  });
}

napi_value SetNumThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 1);
    int32_t n;
    NAPI_CALL(env, napi_get_value_int32(env, a.argv[0], &n));
    if (n > 0) omp_set_num_threads(n);
    napi_value r;
    NAPI_CALL(env, napi_create_int32(env, omp_get_max_threads(), &r));
    return r;
  });
}

}  // namespace

NAPI_MODULE_INIT() {
  // Use every core we are allowed unless the user chose (OMP_NUM_THREADS): some OpenMP runtimes start at 1.
  if (!std::getenv("OMP_NUM_THREADS")) {
    unsigned hc = std::thread::hardware_concurrency();
    if (hc > 0 && omp_get_max_threads() < int(hc)) omp_set_num_threads(int(hc));
  }
  const Export fns[] = {{"info", Info}, {"setNumThreads", SetNumThreads}};
  if (!export_functions(env, exports, fns) || !register_conv(env, exports) || !register_pooling(env, exports) ||
      !register_blas(env, exports) || !register_batchnorm(env, exports) || !register_eltwise(env, exports)) {
    return nullptr;
  }
  return exports;
}
