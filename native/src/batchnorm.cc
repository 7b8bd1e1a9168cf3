// Batch normalisation of the 'tudui-native' backend: oneDNN's batch normalisation forward (training: the batch's
// statistics; inference: given ones) and backward, over the last axis of [rows, C] or NHWC data.
#include <cstdint>
#include <memory>
#include <string>

#include "napi_util.h"
#include "tudui_native.h"

using namespace dnnl;

namespace tudui {
namespace {

// The data as oneDNN sees it: [rows, C] (nc), or [N, C, H, W] in nhwc when the caller passes the image dims.
memory::desc bn_md(const int64_t* dims, int64_t rank) {
  if (rank == 4) return memory::desc({dims[0], dims[3], dims[1], dims[2]}, memory::data_type::f32, memory::format_tag::nhwc);
  return rows_md(dims[0], dims[1]);
}
memory::desc chan_md(int64_t c) { return flat_md(c); }

struct BnDims {
  int64_t d[4];
  int64_t rank, C, rows;
};
BnDims bn_dims(napi_env env, napi_value v) {
  size_t n;
  const int32_t* p = i32(env, v, &n, "bn dims");
  need(n == 2 || n == 4, "batchNorm: dims must be [rows, C] or [N, H, W, C]");
  BnDims b{{0, 0, 0, 0}, int64_t(n), 0, 1};
  for (size_t i = 0; i < n; ++i) b.d[i] = p[i];
  b.C = b.d[n - 1];
  for (size_t i = 0; i + 1 < n; ++i) b.rows *= b.d[i];
  need(b.C > 0 && b.rows > 0, "batchNorm: empty");
  return b;
}
std::string bn_key(const char* k, const BnDims& b, float eps) {
  std::string s = k;
  for (int64_t i = 0; i < b.rank; ++i) s += "," + std::to_string(b.d[i]);
  return s + "|" + std::to_string(eps);
}

struct BnFwd {
  batch_normalization_forward::primitive_desc pd;
  primitive prim;
};

std::shared_ptr<BnFwd> bn_forward(const BnDims& b, float eps, bool training) {
  return cached<BnFwd>(bn_key(training ? "BT" : "BI", b, eps), [&] {
    auto r = std::make_shared<BnFwd>();
    auto flags = normalization_flags::use_scale | normalization_flags::use_shift;
    if (!training) flags = flags | normalization_flags::use_global_stats;
    batch_normalization_forward::desc d(training ? prop_kind::forward_training : prop_kind::forward_inference,
                                        bn_md(b.d, b.rank), eps, flags);
    r->pd = batch_normalization_forward::primitive_desc(d, eng());
    r->prim = batch_normalization_forward(r->pd);
    return r;
  });
}

// batchNorm(x, gamma, beta, y, mean, variance, dims, eps, training): y = gamma·(x - mean)/sqrt(var + eps) + beta.
// Training: the batch's mean and biased variance are computed and written out; inference: they are given.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 9);
    size_t nx, ng, nb, ny, nm, nv;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* g = f32(env, a.argv[1], &ng, "gamma");
    float* be = f32(env, a.argv[2], &nb, "beta");
    float* y = f32(env, a.argv[3], &ny, "y");
    float* mean = f32(env, a.argv[4], &nm, "mean");
    float* var = f32(env, a.argv[5], &nv, "variance");
    const BnDims b = bn_dims(env, a.argv[6]);
    const float eps = float(arg_f64(env, a.argv[7]));
    const bool training = arg_bool(env, a.argv[8]);
    need(nx == size_t(b.rows * b.C) && ny == nx && ng == size_t(b.C) && nb == ng && nm == ng && nv == ng, "batchNorm: sizes");
    ThreadScope threads(nx < kSmallElements);
    auto e = bn_forward(b, eps, training);
    const memory::desc md = bn_md(b.d, b.rank), cm = chan_md(b.C);
    e->prim.execute(strm(), {{DNNL_ARG_SRC, memory(md, eng(), x)}, {DNNL_ARG_DST, memory(md, eng(), y)},
                             {DNNL_ARG_SCALE, memory(cm, eng(), g)}, {DNNL_ARG_SHIFT, memory(cm, eng(), be)},
                             {DNNL_ARG_MEAN, memory(cm, eng(), mean)}, {DNNL_ARG_VARIANCE, memory(cm, eng(), var)}});
    strm().wait();
    return undefined(env);
  });
}

struct BnBwd {
  primitive prim;
};

// batchNormGrad(dy, x, gamma, mean, variance, dx, dgamma, dbeta, dims, eps): dx, dgamma, dbeta.
napi_value BatchNormGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 10);
    napi_value* argv = a.argv;
    size_t ndy, nx, ng, nm, nv, ndx, ndg, ndb;
    float* dy = f32(env, argv[0], &ndy, "dy");
    float* x = f32(env, argv[1], &nx, "x");
    float* g = f32(env, argv[2], &ng, "gamma");
    float* mean = f32(env, argv[3], &nm, "mean");
    float* var = f32(env, argv[4], &nv, "variance");
    float* dx = f32(env, argv[5], &ndx, "dx");
    float* dg = f32(env, argv[6], &ndg, "dgamma");
    float* db = f32(env, argv[7], &ndb, "dbeta");
    const BnDims b = bn_dims(env, argv[8]);
    const float eps = float(arg_f64(env, argv[9]));
    need(nx == size_t(b.rows * b.C) && ndy == nx && ndx == nx && ng == size_t(b.C) && nm == ng && nv == ng && ndg == ng && ndb == ng,
         "batchNormGrad: sizes");
    ThreadScope threads(nx < kSmallElements);
    auto e = cached<BnBwd>(bn_key("BB", b, eps), [&] {
      auto r = std::make_shared<BnBwd>();
      auto fwd = bn_forward(b, eps, true);
      const memory::desc md = bn_md(b.d, b.rank);
      batch_normalization_backward::desc d(prop_kind::backward, md, md, eps,
                                           normalization_flags::use_scale | normalization_flags::use_shift);
      r->prim = batch_normalization_backward(batch_normalization_backward::primitive_desc(d, eng(), fwd->pd));
      return r;
    });
    const memory::desc md = bn_md(b.d, b.rank), cm = chan_md(b.C);
    e->prim.execute(strm(), {{DNNL_ARG_SRC, memory(md, eng(), x)}, {DNNL_ARG_DIFF_DST, memory(md, eng(), dy)},
                             {DNNL_ARG_SCALE, memory(cm, eng(), g)}, {DNNL_ARG_SHIFT, memory(cm, eng(), g)},
                             {DNNL_ARG_MEAN, memory(cm, eng(), mean)},
                             {DNNL_ARG_VARIANCE, memory(cm, eng(), var)}, {DNNL_ARG_DIFF_SRC, memory(md, eng(), dx)},
                             {DNNL_ARG_DIFF_SCALE, memory(cm, eng(), dg)}, {DNNL_ARG_DIFF_SHIFT, memory(cm, eng(), db)}});
    strm().wait();
    return undefined(env);
  });
}

}  // namespace

bool register_batchnorm(napi_env env, napi_value exports) {
  const Export fns[] = {{"batchNorm", BatchNorm}, {"batchNormGrad", BatchNormGrad}};
  return export_functions(env, exports, fns);
}

}  // namespace tudui
