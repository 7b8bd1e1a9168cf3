// tudui_native: oneDNN-backed kernels for the 'tudui-native' TensorFlow.js backend.
//
// Every entry point works synchronously on Float32Array views handed over from JS (zero copy): the JS side
// allocates the outputs, passes geometry as a small Int32Array, and this file only computes. Layouts are the
// ones tfjs uses: activations NHWC, conv filters HWIO, matrices row-major.
//
// Convolutions run on oneDNN primitives (created once per geometry and cached); pooling, the outer-axis sum and
// a few helpers are plain loops parallelised with OpenMP (oneDNN itself is built on OpenMP in Debian, so both share
// one thread pool). Matrix products use dnnl_sgemm.
#include <node_api.h>

#include <omp.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"

using namespace dnnl;

#include "napi_util.h"
#include "tudui_native.h"

using namespace tudui;

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

namespace {

// ---------------------------------------------------------------------------------------------- oneDNN state


// Geometry of a 2-D convolution, from the Int32Array the JS side passes:
// [N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL, RELU]
struct ConvGeom {
  int64_t N, IH, IW, IC, KH, KW, OC, OH, OW, SH, SW, DH, DW, PT, PL;
  bool relu;
  int64_t IHe, IWe, PB, PR;  // rows/cols of the input actually read, and oneDNN's right/bottom padding
};

ConvGeom conv_geom(const int32_t* p, size_t n) {
  need(n >= 16, "conv: geometry needs 16 ints");
  ConvGeom g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15] != 0,
             0, 0, 0, 0};
  need(g.N > 0 && g.IH > 0 && g.IW > 0 && g.IC > 0 && g.KH > 0 && g.KW > 0 && g.OC > 0 && g.OH > 0 && g.OW > 0 &&
           g.SH > 0 && g.SW > 0 && g.DH > 0 && g.DW > 0 && g.PT >= 0 && g.PL >= 0,
       "conv: bad geometry");
  // oneDNN requires OH == (IH + PT + PB - KHeff) / SH + 1 exactly. tfjs may leave trailing input rows unread
  // (valid padding, stride > 1); then we hand oneDNN a cropped (strided) view of the input instead.
  const int64_t khe = (g.KH - 1) * g.DH + 1, kwe = (g.KW - 1) * g.DW + 1;
  g.PB = (g.OH - 1) * g.SH + khe - g.IH - g.PT;
  g.PR = (g.OW - 1) * g.SW + kwe - g.IW - g.PL;
  g.IHe = g.IH;
  g.IWe = g.IW;
  if (g.PB < 0) {
    g.IHe = g.IH + g.PB;
    g.PB = 0;
  }
  if (g.PR < 0) {
    g.IWe = g.IW + g.PR;
    g.PR = 0;
  }
  need(g.IHe > 0 && g.IWe > 0, "conv: bad geometry (cropped input)");
  return g;
}

// Activation layout handed to oneDNN: 0 = NHWC as tfjs stores it (no reorders); 1 = whatever oneDNN prefers
// (blocked nChw8c/16c), with reorders from/to NHWC around each primitive. Chosen per process (setLayout).
int g_layout = 0;

memory::desc act_user_md(const ConvGeom& g) {  // NHWC input, possibly a cropped view
  return memory::desc({g.N, g.IC, g.IHe, g.IWe}, memory::data_type::f32,
                      {g.IH * g.IW * g.IC, 1, g.IW * g.IC, g.IC});
}
memory::desc out_user_md(const ConvGeom& g) {
  return memory::desc({g.N, g.OC, g.OH, g.OW}, memory::data_type::f32, memory::format_tag::nhwc);
}
bool blocked(const ConvGeom& g) {
  return g_layout == 1 && g.IHe == g.IH && g.IWe == g.IW && g.IC % 8 == 0 && g.OC % 8 == 0;
}
memory::desc act_md(const ConvGeom& g) {
  if (!blocked(g)) return act_user_md(g);
  return memory::desc({g.N, g.IC, g.IH, g.IW}, memory::data_type::f32, memory::format_tag::any);
}
memory::desc out_md(const ConvGeom& g) {
  if (!blocked(g)) return out_user_md(g);
  return memory::desc({g.N, g.OC, g.OH, g.OW}, memory::data_type::f32, memory::format_tag::any);
}
memory::desc w_user_md(const ConvGeom& g) {
  return memory::desc({g.OC, g.IC, g.KH, g.KW}, memory::data_type::f32, memory::format_tag::hwio);
}
memory::desc w_any_md(const ConvGeom& g) {
  return memory::desc({g.OC, g.IC, g.KH, g.KW}, memory::data_type::f32, memory::format_tag::any);
}
memory::desc bias_md(const ConvGeom& g) {
  return memory::desc({g.OC}, memory::data_type::f32, memory::format_tag::x);
}
memory::dims strides_of(const ConvGeom& g) { return {g.SH, g.SW}; }
memory::dims dil_of(const ConvGeom& g) { return {g.DH - 1, g.DW - 1}; }
memory::dims padl_of(const ConvGeom& g) { return {g.PT, g.PL}; }
memory::dims padr_of(const ConvGeom& g) { return {g.PB, g.PR}; }

convolution_forward::primitive_desc fwd_pd(const ConvGeom& g, bool bias, prop_kind pk) {
  primitive_attr attr;
  if (g.relu) {
    post_ops po;
    po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(po);
  }
  if (bias) {
    convolution_forward::desc d(pk, algorithm::convolution_direct, act_md(g), w_any_md(g), bias_md(g), out_md(g),
                                strides_of(g), dil_of(g), padl_of(g), padr_of(g));
    return convolution_forward::primitive_desc(d, attr, eng());
  }
  convolution_forward::desc d(pk, algorithm::convolution_direct, act_md(g), w_any_md(g), out_md(g), strides_of(g),
                              dil_of(g), padl_of(g), padr_of(g));
  return convolution_forward::primitive_desc(d, attr, eng());
}

// One tensor argument of a cached primitive: the layout the caller's buffer has, the one the primitive wants,
// and (when they differ) a scratch buffer plus the reorder between them.
struct Slot {
  int arg = 0;
  bool output = false;
  memory::desc user_md, prim_md;
  bool reordered = false;
  memory scratch;
  primitive re;
  // Version token of the input last reordered into `scratch` (0: none): an input whose token matches is not
  // reordered again (see run_entry).
  int32_t token = 0;

  Slot() = default;
  Slot(int a, bool out, const memory::desc& user, const memory::desc& prim) : arg(a), output(out), user_md(user), prim_md(prim) {
    reordered = user != prim;
    if (reordered) {
      scratch = memory(prim, eng());
      if (out)
        re = reorder(scratch, memory(user, eng(), nullptr));
      else
        re = reorder(memory(user, eng(), nullptr), scratch);
    }
  }
};

struct ConvEntry {
  primitive prim;
  std::vector<Slot> slots;  // order fixed per op: see the callers
  std::string impl;
};

std::unordered_map<std::string, std::shared_ptr<ConvEntry>>& cache() {
  static std::unordered_map<std::string, std::shared_ptr<ConvEntry>> c;
  return c;
}

std::string key_of(char kind, bool bias, const ConvGeom& g) {
  char buf[256];
  snprintf(buf, sizeof buf, "%c%d%d|%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%d",
           kind, bias ? 1 : 0, g_layout, (long long)g.N, (long long)g.IH, (long long)g.IW, (long long)g.IC,
           (long long)g.KH, (long long)g.KW, (long long)g.OC, (long long)g.OH, (long long)g.OW, (long long)g.SH,
           (long long)g.SW, (long long)g.DH, (long long)g.DW, (long long)g.PT, (long long)g.PL, g.relu ? 1 : 0);
  return buf;
}

std::shared_ptr<ConvEntry> lookup(const std::string& key) {
  auto& c = cache();
  auto it = c.find(key);
  return it == c.end() ? nullptr : it->second;
}
void store(const std::string& key, const std::shared_ptr<ConvEntry>& e) {
  auto& c = cache();
  if (c.size() >= 512) c.clear();  // crude bound; shapes are few in practice
  c[key] = e;
}

std::string last_impl;

// Runs a cached primitive on user buffers (one per slot, nullptr for an absent optional slot).
// `tokens` (optional, one per slot, 0 = unknown): the caller's version of each input's contents (native.ts
// `arrayToken`: a fresh number whenever an array may have changed). An input slot whose reordered copy was made
// from the same token skips its reorder: the weights of a model under evaluation are reordered once, not per batch.
void run_entry(ConvEntry& e, const std::vector<void*>& ptrs, const std::vector<int32_t>& tokens = {}) {
  std::unordered_map<int, memory> args;
  std::vector<std::pair<size_t, memory>> outs;
  for (size_t i = 0; i < e.slots.size(); ++i) {
    Slot& s = e.slots[i];
    if (!ptrs[i]) continue;
    memory user(s.user_md, eng(), ptrs[i]);
    if (!s.reordered) {
      args.insert({s.arg, user});
      continue;
    }
    if (!s.output) {
      const int32_t token = i < tokens.size() ? tokens[i] : 0;
      if (token == 0 || token != s.token) {
        // Weight reorders are small: one thread (see ThreadScope).
        ThreadScope threads(s.user_md.get_size() / sizeof(float) < kSmallElements);
        s.re.execute(strm(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, s.scratch}});
      }
      s.token = token;
    }
    args.insert({s.arg, s.scratch});
    if (s.output) outs.push_back({i, user});
  }
  e.prim.execute(strm(), args);
  for (auto& o : outs) e.slots[o.first].re.execute(strm(), {{DNNL_ARG_FROM, e.slots[o.first].scratch}, {DNNL_ARG_TO, o.second}});
  strm().wait();
  last_impl = e.impl;
}

// ---------------------------------------------------------------------------------------------- convolution

napi_value ConvForward(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    size_t nx, nw, nb, ny, np;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* w = f32(env, a.argv[1], &nw, "filter");
    float* b = f32(env, a.argv[2], &nb, "bias", true);
    float* y = f32(env, a.argv[3], &ny, "y");
    const int32_t* p = i32(env, a.argv[4], &np, "geometry");
    ConvGeom g = conv_geom(p, np);
    need(nx == size_t(g.N * g.IH * g.IW * g.IC), "conv: x size");
    need(nw == size_t(g.KH * g.KW * g.IC * g.OC), "conv: filter size");
    need(ny == size_t(g.N * g.OH * g.OW * g.OC), "conv: y size");
    need(!b || nb == size_t(g.OC), "conv: bias size");
    const bool has_bias = b != nullptr;
    // geometry[16] = 1: inference (no gradient will follow), which lets oneDNN pick its inference kernels.
    const bool inference = np > 16 && p[16] != 0;
    std::string key = key_of(inference ? 'I' : 'F', has_bias, g);
    auto e = lookup(key);
    if (!e) {
      e = std::make_shared<ConvEntry>();
      auto pd = fwd_pd(g, has_bias, inference ? prop_kind::forward_inference : prop_kind::forward_training);
      e->prim = convolution_forward(pd);
      e->slots = {Slot(DNNL_ARG_SRC, false, act_user_md(g), pd.src_desc()),
                  Slot(DNNL_ARG_WEIGHTS, false, w_user_md(g), pd.weights_desc()),
                  Slot(DNNL_ARG_BIAS, false, bias_md(g), bias_md(g)),
                  Slot(DNNL_ARG_DST, true, out_user_md(g), pd.dst_desc())};
      e->impl = pd.impl_info_str();
      store(key, e);
    }
    // geometry[17]: the filter's version token (0: unknown).
    run_entry(*e, {x, w, b, y}, {0, np > 17 ? p[17] : 0, 0, 0});
    return undefined(env);
  });
}

napi_value ConvBackwardData(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t ndy, nw, ndx, np;
    float* dy = f32(env, a.argv[0], &ndy, "dy");
    float* w = f32(env, a.argv[1], &nw, "filter");
    float* dx = f32(env, a.argv[2], &ndx, "dx");
    const int32_t* p = i32(env, a.argv[3], &np, "geometry");
    ConvGeom g = conv_geom(p, np);
    g.relu = false;
    need(ndx == size_t(g.N * g.IH * g.IW * g.IC), "conv bwd data: dx size");
    need(nw == size_t(g.KH * g.KW * g.IC * g.OC), "conv bwd data: filter size");
    need(ndy == size_t(g.N * g.OH * g.OW * g.OC), "conv bwd data: dy size");
    std::string key = key_of('D', false, g);
    auto e = lookup(key);
    if (!e) {
      e = std::make_shared<ConvEntry>();
      auto hint = fwd_pd(g, false, prop_kind::forward_training);
      convolution_backward_data::desc d(algorithm::convolution_direct, act_md(g), w_any_md(g), out_md(g),
                                        strides_of(g), dil_of(g), padl_of(g), padr_of(g));
      convolution_backward_data::primitive_desc pd(d, eng(), hint);
      e->prim = convolution_backward_data(pd);
      e->slots = {Slot(DNNL_ARG_DIFF_DST, false, out_user_md(g), pd.diff_dst_desc()),
                  Slot(DNNL_ARG_WEIGHTS, false, w_user_md(g), pd.weights_desc()),
                  Slot(DNNL_ARG_DIFF_SRC, true, act_user_md(g), pd.diff_src_desc())};
      e->impl = pd.impl_info_str();
      store(key, e);
    }
    if (g.IHe != g.IH || g.IWe != g.IW) std::memset(dx, 0, ndx * sizeof(float));  // unread rows get no gradient
    run_entry(*e, {dy, w, dx});
    return undefined(env);
  });
}

napi_value ConvBackwardWeights(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    size_t nx, ndy, ndw, ndb, np;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* dy = f32(env, a.argv[1], &ndy, "dy");
    float* dw = f32(env, a.argv[2], &ndw, "dw");
    float* db = f32(env, a.argv[3], &ndb, "dbias", true);
    const int32_t* p = i32(env, a.argv[4], &np, "geometry");
    ConvGeom g = conv_geom(p, np);
    g.relu = false;
    need(nx == size_t(g.N * g.IH * g.IW * g.IC), "conv bwd weights: x size");
    need(ndw == size_t(g.KH * g.KW * g.IC * g.OC), "conv bwd weights: dw size");
    need(ndy == size_t(g.N * g.OH * g.OW * g.OC), "conv bwd weights: dy size");
    need(!db || ndb == size_t(g.OC), "conv bwd weights: dbias size");
    const bool has_bias = db != nullptr;
    std::string key = key_of('W', has_bias, g);
    auto e = lookup(key);
    if (!e) {
      e = std::make_shared<ConvEntry>();
      auto hint = fwd_pd(g, has_bias, prop_kind::forward_training);
      std::unique_ptr<convolution_backward_weights::desc> d;
      if (has_bias) {
        d.reset(new convolution_backward_weights::desc(algorithm::convolution_direct, act_md(g), w_any_md(g),
                                                       bias_md(g), out_md(g), strides_of(g), dil_of(g), padl_of(g),
                                                       padr_of(g)));
      } else {
        d.reset(new convolution_backward_weights::desc(algorithm::convolution_direct, act_md(g), w_any_md(g),
                                                       out_md(g), strides_of(g), dil_of(g), padl_of(g), padr_of(g)));
      }
      convolution_backward_weights::primitive_desc pd(*d, eng(), hint);
      e->prim = convolution_backward_weights(pd);
      e->slots = {Slot(DNNL_ARG_SRC, false, act_user_md(g), pd.src_desc()),
                  Slot(DNNL_ARG_DIFF_DST, false, out_user_md(g), pd.diff_dst_desc()),
                  Slot(DNNL_ARG_DIFF_WEIGHTS, true, w_user_md(g), pd.diff_weights_desc()),
                  Slot(DNNL_ARG_DIFF_BIAS, true, bias_md(g), bias_md(g))};
      e->impl = pd.impl_info_str();
      store(key, e);
    }
    run_entry(*e, {x, dy, dw, db});
    return undefined(env);
  });
}

napi_value SetLayout(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 1);
    int32_t n;
    NAPI_CALL(env, napi_get_value_int32(env, a.argv[0], &n));
    if (n == 0 || n == 1) g_layout = n;
    napi_value r;
    NAPI_CALL(env, napi_create_int32(env, g_layout, &r));
    return r;
  });
}

// ---------------------------------------------------------------------------------------------- pooling
// Geometry: [N, IH, IW, C, KH, KW, OH, OW, SH, SW, PT, PL]. Semantics follow tfjs's cpu backend: padded cells
// are skipped (never win a max, never count in an average); the max gradient goes to the first maximum in
// row-major window order (strictly-greater comparison, so NaNs never win).

// Below this many elements a parallel region costs more (waking the OpenMP workers) than it saves.

struct PoolGeom {
  int64_t N, IH, IW, C, KH, KW, OH, OW, SH, SW, PT, PL;
};

PoolGeom pool_geom(const int32_t* p, size_t n) {
  need(n >= 12, "pool: geometry needs 12 ints");
  PoolGeom g{p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11]};
  need(g.N > 0 && g.IH > 0 && g.IW > 0 && g.C > 0 && g.KH > 0 && g.KW > 0 && g.OH > 0 && g.OW > 0 && g.SH > 0 &&
           g.SW > 0,
       "pool: bad geometry");
  return g;
}

TUDUI_CLONES void max_pool_row(const float* x, float* y, const PoolGeom& g,
                                                                      int64_t n, int64_t oh) {
  const int64_t C = g.C;
  const int64_t h0 = oh * g.SH - g.PT;
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    float* o = y + ((n * g.OH + oh) * g.OW + ow) * C;
    for (int64_t c = 0; c < C; ++c) o[c] = -std::numeric_limits<float>::infinity();
    const int64_t w0 = ow * g.SW - g.PL;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = h0 + kh;
      if (ih < 0 || ih >= g.IH) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = w0 + kw;
        if (iw < 0 || iw >= g.IW) continue;
        const float* xi = x + ((n * g.IH + ih) * g.IW + iw) * C;
        for (int64_t c = 0; c < C; ++c) o[c] = xi[c] > o[c] ? xi[c] : o[c];
      }
    }
  }
}

napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 3);
    size_t nx, ny, np;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* y = f32(env, a.argv[1], &ny, "y");
    const int32_t* p = i32(env, a.argv[2], &np, "geometry");
    PoolGeom g = pool_geom(p, np);
    need(nx == size_t(g.N * g.IH * g.IW * g.C) && ny == size_t(g.N * g.OH * g.OW * g.C), "maxpool: sizes");
#pragma omp parallel for collapse(2) schedule(static) if (big(nx))
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh) max_pool_row(x, y, g, n, oh);
    return undefined(env);
  });
}

TUDUI_CLONES void max_pool_grad_image(const float* x, const float* dy, float* dx,
                                                                             const PoolGeom& g, int64_t n,
                                                                             float* __restrict best,
                                                                             int32_t* __restrict arg) {
  const int64_t C = g.C;
  std::memset(dx + n * g.IH * g.IW * C, 0, sizeof(float) * g.IH * g.IW * C);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const int64_t h0 = oh * g.SH - g.PT;
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t w0 = ow * g.SW - g.PL;
      for (int64_t c = 0; c < C; ++c) {
        best[c] = -std::numeric_limits<float>::infinity();
        arg[c] = -1;
      }
      for (int64_t kh = 0; kh < g.KH; ++kh) {
        const int64_t ih = h0 + kh;
        if (ih < 0 || ih >= g.IH) continue;
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const int64_t iw = w0 + kw;
          if (iw < 0 || iw >= g.IW) continue;
          const int32_t pos = int32_t(ih * g.IW + iw);
          const float* __restrict xi = x + ((n * g.IH + ih) * g.IW + iw) * C;
          for (int64_t c = 0; c < C; ++c) {
            const bool gt = xi[c] > best[c];
            best[c] = gt ? xi[c] : best[c];
            arg[c] = gt ? pos : arg[c];
          }
        }
      }
      const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
      float* dxn = dx + n * g.IH * g.IW * C;
      for (int64_t c = 0; c < C; ++c)
        if (arg[c] >= 0) dxn[int64_t(arg[c]) * C + c] += d[c];
    }
  }
}

// Windows that tile the input exactly (stride == window, no padding, no remainder: maxpool2d's usual case):
// every input cell belongs to one window, so dx is written directly, without zeroing or scattering. The first
// cell equal to the window's maximum takes dy (a cell equal to -inf never does, like tfjs's strict comparison).
TUDUI_CLONES void max_pool_grad_tiled_row(const float* __restrict x,
                                                                                 const float* __restrict dy,
                                                                                 float* __restrict dx,
                                                                                 const PoolGeom& g, int64_t n,
                                                                                 int64_t oh, float* __restrict best,
                                                                                 float* __restrict taken) {
  const int64_t C = g.C;
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    for (int64_t c = 0; c < C; ++c) {
      best[c] = ninf;
      taken[c] = 0.f;
    }
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const float* xi = x + ((n * g.IH + oh * g.KH + kh) * g.IW + ow * g.KW + kw) * C;
        for (int64_t c = 0; c < C; ++c) best[c] = xi[c] > best[c] ? xi[c] : best[c];
      }
    const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t off = ((n * g.IH + oh * g.KH + kh) * g.IW + ow * g.KW + kw) * C;
        const float* xi = x + off;
        float* o = dx + off;
        for (int64_t c = 0; c < C; ++c) {
          const bool hit = (xi[c] == best[c]) & (xi[c] > ninf) & (taken[c] == 0.f);
          o[c] = hit ? d[c] : 0.f;
          taken[c] = hit ? 1.f : taken[c];
        }
      }
  }
}

napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t nx, ndy, ndx, np;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* dy = f32(env, a.argv[1], &ndy, "dy");
    float* dx = f32(env, a.argv[2], &ndx, "dx");
    const int32_t* p = i32(env, a.argv[3], &np, "geometry");
    PoolGeom g = pool_geom(p, np);
    need(nx == size_t(g.N * g.IH * g.IW * g.C) && ndx == nx && ndy == size_t(g.N * g.OH * g.OW * g.C),
         "maxpool grad: sizes");
    const bool tiled = g.SH == g.KH && g.SW == g.KW && g.PT == 0 && g.PL == 0 && g.OH * g.KH == g.IH &&
                       g.OW * g.KW == g.IW;
#pragma omp parallel if (big(nx))
    {
      std::vector<float> best(g.C), taken(g.C);
      std::vector<int32_t> arg(g.C);
      if (tiled) {
#pragma omp for collapse(2) schedule(static)
        for (int64_t n = 0; n < g.N; ++n)
          for (int64_t oh = 0; oh < g.OH; ++oh) max_pool_grad_tiled_row(x, dy, dx, g, n, oh, best.data(), taken.data());
      } else {
#pragma omp for schedule(static)
        for (int64_t n = 0; n < g.N; ++n) max_pool_grad_image(x, dy, dx, g, n, best.data(), arg.data());
      }
    }
    return undefined(env);
  });
}

TUDUI_CLONES void avg_pool_row(const float* x, float* y, const PoolGeom& g,
                                                                      int64_t n, int64_t oh) {
  const int64_t C = g.C;
  const int64_t h0 = oh * g.SH - g.PT;
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    float* o = y + ((n * g.OH + oh) * g.OW + ow) * C;
    for (int64_t c = 0; c < C; ++c) o[c] = 0.f;
    const int64_t w0 = ow * g.SW - g.PL;
    int count = 0;
    for (int64_t kh = 0; kh < g.KH; ++kh) {
      const int64_t ih = h0 + kh;
      if (ih < 0 || ih >= g.IH) continue;
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t iw = w0 + kw;
        if (iw < 0 || iw >= g.IW) continue;
        ++count;
        const float* xi = x + ((n * g.IH + ih) * g.IW + iw) * C;
        for (int64_t c = 0; c < C; ++c) o[c] += xi[c];
      }
    }
    const float inv = count > 0 ? 1.f / float(count) : 0.f;
    for (int64_t c = 0; c < C; ++c) o[c] *= inv;
  }
}

napi_value AvgPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 3);
    size_t nx, ny, np;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* y = f32(env, a.argv[1], &ny, "y");
    const int32_t* p = i32(env, a.argv[2], &np, "geometry");
    PoolGeom g = pool_geom(p, np);
    need(nx == size_t(g.N * g.IH * g.IW * g.C) && ny == size_t(g.N * g.OH * g.OW * g.C), "avgpool: sizes");
#pragma omp parallel for collapse(2) schedule(static) if (big(nx))
    for (int64_t n = 0; n < g.N; ++n)
      for (int64_t oh = 0; oh < g.OH; ++oh) avg_pool_row(x, y, g, n, oh);
    return undefined(env);
  });
}

// Gradient of the average above: each output spreads dy / (number of in-bounds cells of its window).
TUDUI_CLONES void avg_pool_grad_image(const float* dy, float* dx,
                                                                             const PoolGeom& g, int64_t n) {
  const int64_t C = g.C;
  float* dxn = dx + n * g.IH * g.IW * C;
  std::memset(dxn, 0, sizeof(float) * g.IH * g.IW * C);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    const int64_t h0 = oh * g.SH - g.PT;
    const int64_t ha = h0 < 0 ? 0 : h0, hb = h0 + g.KH > g.IH ? g.IH : h0 + g.KH;
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t w0 = ow * g.SW - g.PL;
      const int64_t wa = w0 < 0 ? 0 : w0, wb = w0 + g.KW > g.IW ? g.IW : w0 + g.KW;
      const int64_t count = (hb > ha && wb > wa) ? (hb - ha) * (wb - wa) : 0;
      if (count == 0) continue;
      const float inv = 1.f / float(count);
      const float* d = dy + ((n * g.OH + oh) * g.OW + ow) * C;
      for (int64_t ih = ha; ih < hb; ++ih)
        for (int64_t iw = wa; iw < wb; ++iw) {
          float* o = dxn + (ih * g.IW + iw) * C;
          for (int64_t c = 0; c < C; ++c) o[c] += d[c] * inv;
        }
    }
  }
}

napi_value AvgPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 3);
    size_t ndy, ndx, np;
    float* dy = f32(env, a.argv[0], &ndy, "dy");
    float* dx = f32(env, a.argv[1], &ndx, "dx");
    const int32_t* p = i32(env, a.argv[2], &np, "geometry");
    PoolGeom g = pool_geom(p, np);
    need(ndx == size_t(g.N * g.IH * g.IW * g.C) && ndy == size_t(g.N * g.OH * g.OW * g.C), "avgpool grad: sizes");
#pragma omp parallel for schedule(static) if (big(ndx))
    for (int64_t n = 0; n < g.N; ++n) avg_pool_grad_image(dy, dx, g, n);
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- matmul
// matmul(a, b, c, [batchA, batchB, M, N, K, transA, transB]): c[batch] = op(a[batch]) x op(b[batch]),
// a batch of 1 broadcasting against the other.
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t na, nb, nc, np;
    float* A = f32(env, a.argv[0], &na, "a");
    float* B = f32(env, a.argv[1], &nb, "b");
    float* Cm = f32(env, a.argv[2], &nc, "c");
    const int32_t* p = i32(env, a.argv[3], &np, "geometry");
    need(np >= 7, "matmul: geometry needs 7 ints");
    const int64_t ba = p[0], bb = p[1], M = p[2], N = p[3], K = p[4];
    const bool ta = p[5] != 0, tb = p[6] != 0;
    need(ba > 0 && bb > 0 && (ba == bb || ba == 1 || bb == 1), "matmul: batch");
    const int64_t bc = ba > bb ? ba : bb;
    need(na == size_t(ba * M * K) && nb == size_t(bb * K * N) && nc == size_t(bc * M * N), "matmul: sizes");
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;
    ThreadScope threads(double(M) * double(N) * double(K) < kSmallMacs);
    for (int64_t i = 0; i < bc; ++i) {
      const float* Ai = A + (ba == 1 ? 0 : i) * M * K;
      const float* Bi = B + (bb == 1 ? 0 : i) * K * N;
      float* Ci = Cm + i * M * N;
      if (K == 0) {
        std::memset(Ci, 0, sizeof(float) * M * N);
        continue;
      }
      dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1.f, Ai, lda, Bi, ldb, 0.f, Ci, N);
      if (st != dnnl_success) throw JsError{"dnnl_sgemm failed"};
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- reductions
// sumOuter(x, out, outer, inner): out[j] = sum_i x[i*inner + j] (the bias gradient of an NHWC tensor).
// Accumulates in double like tfjs's cpu Sum.
napi_value SumOuter(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t nx, no;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* out = f32(env, a.argv[1], &no, "out");
    int64_t outer, inner;
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[2], &outer));
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[3], &inner));
    need(outer >= 0 && inner > 0 && nx == size_t(outer * inner) && no == size_t(inner), "sumOuter: sizes");
    const int nt = omp_get_max_threads();
    std::vector<double> part(size_t(nt) * inner, 0.0);
#pragma omp parallel num_threads(nt) if (big(nx))
    {
      double* acc = part.data() + size_t(omp_get_thread_num()) * inner;
#pragma omp for schedule(static)
      for (int64_t i = 0; i < outer; ++i) {
        const float* r = x + i * inner;
        for (int64_t j = 0; j < inner; ++j) acc[j] += r[j];
      }
    }
    for (int64_t j = 0; j < inner; ++j) {
      double s = 0;
      for (int t = 0; t < nt; ++t) s += part[size_t(t) * inner + j];
      out[j] = float(s);
    }
    return undefined(env);
  });
}

// sumInner(x, out, outer, inner): out[i] = sum_j x[i*inner + j].
napi_value SumInner(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t nx, no;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* out = f32(env, a.argv[1], &no, "out");
    int64_t outer, inner;
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[2], &outer));
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[3], &inner));
    need(outer >= 0 && inner >= 0 && nx == size_t(outer * inner) && no == size_t(outer), "sumInner: sizes");
#pragma omp parallel for schedule(static) if (big(nx))
    for (int64_t i = 0; i < outer; ++i) {
      const float* r = x + i * inner;
      double s = 0;
      for (int64_t j = 0; j < inner; ++j) s += r[j];
      out[i] = float(s);
    }
    return undefined(env);
  });
}

// addBias(y, bias, rows, cols, relu): y[i, j] += bias[j]; then max(0, .) when relu.
napi_value AddBias(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    size_t ny, nb;
    float* y = f32(env, a.argv[0], &ny, "y");
    float* b = f32(env, a.argv[1], &nb, "bias", true);
    int64_t rows, cols;
    bool relu;
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[2], &rows));
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[3], &cols));
    NAPI_CALL(env, napi_get_value_bool(env, a.argv[4], &relu));
    need(ny == size_t(rows * cols) && (!b || nb == size_t(cols)), "addBias: sizes");
    for (int64_t i = 0; i < rows; ++i) {
      float* r = y + i * cols;
      if (b)
        for (int64_t j = 0; j < cols; ++j) r[j] += b[j];
      if (relu)
        for (int64_t j = 0; j < cols; ++j) r[j] = r[j] > 0.f ? r[j] : 0.f;
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- output buffers
// Outputs of the native kernels live in Float32Arrays over external ArrayBuffers from this pool. A fresh
// `new Float32Array(n)` of several MB costs a zero fill plus page faults on new mmap'd memory, for every tensor of
// every step; here a buffer is handed out again (unzeroed: every kernel writes its whole output) once V8 has
// collected the previous ArrayBuffer. The finalizer may run off the main thread, hence the mutex.

struct BufferPool {
  std::mutex m;
  std::unordered_map<size_t, std::vector<void*>> free_lists;
  size_t free_bytes = 0;
  size_t cap = size_t(256) << 20;
};

BufferPool& pool() {
  static BufferPool* p = new BufferPool();  // never destroyed: finalizers may run during shutdown
  return *p;
}

void* pool_get(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(pool().m);
    auto it = pool().free_lists.find(bytes);
    if (it != pool().free_lists.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      pool().free_bytes -= bytes;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw JsError{"out of memory"};
  return p;
}

void pool_put(napi_env, void* data, void* hint) {
  const size_t bytes = reinterpret_cast<size_t>(hint);
  std::lock_guard<std::mutex> lock(pool().m);
  if (pool().free_bytes + bytes > pool().cap) {
    std::free(data);
    return;
  }
  pool().free_lists[bytes].push_back(data);
  pool().free_bytes += bytes;
}

// alloc(n): a Float32Array of n elements, contents unspecified.
napi_value Alloc(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 1);
    int64_t n;
    NAPI_CALL(env, napi_get_value_int64(env, a.argv[0], &n));
    need(n > 0 && n < (int64_t(1) << 34), "alloc: bad size");
    const size_t bytes = size_t(n) * sizeof(float);
    void* p = pool_get(bytes);
    napi_value ab, ta;
    if (napi_create_external_arraybuffer(env, p, bytes, pool_put, reinterpret_cast<void*>(bytes), &ab) != napi_ok) {
      std::free(p);
      throw JsError{"alloc: napi_create_external_arraybuffer failed"};
    }
    NAPI_CALL(env, napi_create_typedarray(env, napi_float32_array, size_t(n), ab, 0, &ta));
    return ta;
  });
}

// ---------------------------------------------------------------------------------------------- misc

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

napi_value LastImpl(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value s;
    NAPI_CALL(env, napi_create_string_utf8(env, last_impl.c_str(), NAPI_AUTO_LENGTH, &s));
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

napi_value ClearCache(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    cache().clear();
    return undefined(env);
  });
}

}  // namespace

NAPI_MODULE_INIT() {
  // Use every core we are allowed unless the user chose (OMP_NUM_THREADS): some OpenMP runtimes start at 1.
  if (!std::getenv("OMP_NUM_THREADS")) {
    unsigned hc = std::thread::hardware_concurrency();
    if (hc > 0 && omp_get_max_threads() < int(hc)) omp_set_num_threads(int(hc));
  }
  struct {
    const char* name;
    napi_callback cb;
  } fns[] = {{"convForward", ConvForward},
             {"convBackwardData", ConvBackwardData},
             {"convBackwardWeights", ConvBackwardWeights},
             {"maxPool", MaxPool},
             {"maxPoolGrad", MaxPoolGrad},
             {"avgPool", AvgPool},
             {"avgPoolGrad", AvgPoolGrad},
             {"matMul", MatMul},
             {"sumOuter", SumOuter},
             {"sumInner", SumInner},
             {"addBias", AddBias},
             {"info", Info},
             {"lastImpl", LastImpl},
             {"setNumThreads", SetNumThreads},
             {"clearCache", ClearCache},
             {"setLayout", SetLayout},
             {"alloc", Alloc}};
  for (auto& f : fns) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.cb, nullptr, &fn) != napi_ok) return nullptr;
    if (napi_set_named_property(env, exports, f.name, fn) != napi_ok) return nullptr;
  }
  register_eltwise(env, exports);
  return exports;
}
