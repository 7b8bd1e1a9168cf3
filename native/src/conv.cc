// Convolutions of the 'tudui-native' backend: forward (with bias and a fused relu) and both gradients, on oneDNN
// primitives created once per geometry and cached.
//
// Layouts are tfjs's: activations NHWC (handed to oneDNN as they are, no reorders), filters HWIO. A filter is
// reordered into the layout the primitive prefers; the reordered copy is kept while the filter is unchanged (version
// tokens from src/backends/native.ts), so a model under evaluation has its weights reordered once, not per batch.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "napi_util.h"
#include "pool_rows.h"
#include "tudui_native.h"
#include "winograd.h"

using namespace dnnl;

namespace tudui {
namespace {

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

WinoShape wino_shape(const ConvGeom& g) { return {g.N, g.IH, g.IW, g.IC, g.OC, g.OH, g.OW, g.PT, g.PL}; }
// Whether the Winograd path takes the convolution of this geometry with input/output shape `s` (winograd.h).
bool wino_for(const ConvGeom& g, const WinoShape& s) { return winograd_usable(s, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW); }

memory::desc act_user_md(const ConvGeom& g) {  // NHWC input, possibly a cropped view
  return memory::desc({g.N, g.IC, g.IHe, g.IWe}, memory::data_type::f32,
                      {g.IH * g.IW * g.IC, 1, g.IW * g.IC, g.IC});
}
memory::desc out_user_md(const ConvGeom& g) {
  return memory::desc({g.N, g.OC, g.OH, g.OW}, memory::data_type::f32, memory::format_tag::nhwc);
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

convolution_forward::primitive_desc fwd_pd(const ConvGeom& g, bool bias, prop_kind pk, bool user_scratchpad = false) {
  primitive_attr attr;
  if (user_scratchpad) attr.set_scratchpad_mode(scratchpad_mode::user);
  if (g.relu) {
    post_ops po;
    po.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(po);
  }
  if (bias) {
    convolution_forward::desc d(pk, algorithm::convolution_direct, act_user_md(g), w_any_md(g), bias_md(g), out_user_md(g),
                                strides_of(g), dil_of(g), padl_of(g), padr_of(g));
    return convolution_forward::primitive_desc(d, attr, eng());
  }
  convolution_forward::desc d(pk, algorithm::convolution_direct, act_user_md(g), w_any_md(g), out_user_md(g), strides_of(g),
                              dil_of(g), padl_of(g), padr_of(g));
  return convolution_forward::primitive_desc(d, attr, eng());
}

// One tensor argument of a cached primitive: the layout the caller's buffer has, the one the primitive wants,

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
};

std::string key_of(char kind, bool bias, const ConvGeom& g) {
  char buf[256];
  snprintf(buf, sizeof buf, "%c%d|%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%d",
           kind, bias ? 1 : 0, (long long)g.N, (long long)g.IH, (long long)g.IW, (long long)g.IC,
           (long long)g.KH, (long long)g.KW, (long long)g.OC, (long long)g.OH, (long long)g.OW, (long long)g.SH,
           (long long)g.SW, (long long)g.DH, (long long)g.DW, (long long)g.PT, (long long)g.PL, g.relu ? 1 : 0);
  return buf;
}

// The memory a cached primitive reads for one input slot: the caller's buffer, or its reordered copy. `token`: the
// caller's version of the buffer's contents (native.ts `arrayToken`: a fresh number whenever an array may have
// changed; 0 = unknown): a copy made from the same token is not made again, so the weights of a model under
// evaluation are reordered once, not per batch.
memory input_memory(Slot& s, void* ptr, int32_t token) {
  memory user(s.user_md, eng(), ptr);
  if (!s.reordered) return user;
  if (token == 0 || token != s.token) {
    // Weight reorders are small: one thread (see ThreadScope).
    ThreadScope threads(s.user_md.get_size() / sizeof(float) < kSmallElements);
    s.re.execute(strm(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, s.scratch}});
    strm().wait();
  }
  s.token = token;
  return s.scratch;
}

// Runs a cached primitive on user buffers (one per slot, nullptr for an absent optional slot), with the inputs'
// version tokens (optional, one per slot; see input_memory).
void run_entry(ConvEntry& e, const std::vector<void*>& ptrs, const std::vector<int32_t>& tokens = {}) {
  std::unordered_map<int, memory> args;
  std::vector<std::pair<size_t, memory>> outs;
  for (size_t i = 0; i < e.slots.size(); ++i) {
    Slot& s = e.slots[i];
    if (!ptrs[i]) continue;
    if (!s.output) {
      args.insert({s.arg, input_memory(s, ptrs[i], i < tokens.size() ? tokens[i] : 0)});
      continue;
    }
    memory user(s.user_md, eng(), ptrs[i]);
    args.insert({s.arg, s.reordered ? s.scratch : user});
    if (s.reordered) outs.push_back({i, user});
  }
  e.prim.execute(strm(), args);
  for (auto& o : outs) e.slots[o.first].re.execute(strm(), {{DNNL_ARG_FROM, e.slots[o.first].scratch}, {DNNL_ARG_TO, o.second}});
  strm().wait();
}

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
    if (wino_for(g, wino_shape(g))) {
      winograd_conv_batch(x, winograd_filter(w, np > 17 ? p[17] : 0, g.IC, g.OC)->data(), b, g.relu, y, wino_shape(g));
      return undefined(env);
    }
    // geometry[16] = 1: oneDNN's inference kernels (what native-conv.ts passes, training too: no state is kept).
    const bool inference = np > 16 && p[16] != 0;
    std::string key = key_of(inference ? 'I' : 'F', has_bias, g);
    auto e = cached<ConvEntry>(key, [&] {
      auto n = std::make_shared<ConvEntry>();
      auto pd = fwd_pd(g, has_bias, inference ? prop_kind::forward_inference : prop_kind::forward_training);
      n->prim = convolution_forward(pd);
      n->slots = {Slot(DNNL_ARG_SRC, false, act_user_md(g), pd.src_desc()),
                  Slot(DNNL_ARG_WEIGHTS, false, w_user_md(g), pd.weights_desc()),
                  Slot(DNNL_ARG_BIAS, false, bias_md(g), bias_md(g)),
                  Slot(DNNL_ARG_DST, true, out_user_md(g), pd.dst_desc())};
      return n;
    });
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
    // The input gradient of a stride-1 conv is a conv of dy with the filter turned by 180° (in and out swapped) and
    // the padding mirrored (KH - 1 - PT before): Winograd where it takes that (a cropped input excepted).
    const WinoShape back{g.N, g.OH, g.OW, g.OC, g.IC, g.IH, g.IW, g.KH - 1 - g.PT, g.KW - 1 - g.PL};
    if (g.IHe == g.IH && g.IWe == g.IW && back.PT >= 0 && back.PL >= 0 && wino_for(g, back)) {
      winograd_conv_batch(dy, winograd_filter(w, np > 17 ? p[17] : 0, g.IC, g.OC, true)->data(), nullptr, false, dx, back);
      return undefined(env);
    }
    std::string key = key_of('D', false, g);
    auto e = cached<ConvEntry>(key, [&] {
      auto n = std::make_shared<ConvEntry>();
      auto hint = fwd_pd(g, false, prop_kind::forward_training);
      convolution_backward_data::desc d(algorithm::convolution_direct, act_user_md(g), w_any_md(g), out_user_md(g),
                                        strides_of(g), dil_of(g), padl_of(g), padr_of(g));
      convolution_backward_data::primitive_desc pd(d, eng(), hint);
      n->prim = convolution_backward_data(pd);
      n->slots = {Slot(DNNL_ARG_DIFF_DST, false, out_user_md(g), pd.diff_dst_desc()),
                  Slot(DNNL_ARG_WEIGHTS, false, w_user_md(g), pd.weights_desc()),
                  Slot(DNNL_ARG_DIFF_SRC, true, act_user_md(g), pd.diff_src_desc())};
      return n;
    });
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
    auto e = cached<ConvEntry>(key, [&] {
      auto n = std::make_shared<ConvEntry>();
      auto hint = fwd_pd(g, has_bias, prop_kind::forward_training);
      std::unique_ptr<convolution_backward_weights::desc> d;
      if (has_bias) {
        d.reset(new convolution_backward_weights::desc(algorithm::convolution_direct, act_user_md(g), w_any_md(g),
                                                       bias_md(g), out_user_md(g), strides_of(g), dil_of(g), padl_of(g),
                                                       padr_of(g)));
      } else {
        d.reset(new convolution_backward_weights::desc(algorithm::convolution_direct, act_user_md(g), w_any_md(g),
                                                       out_user_md(g), strides_of(g), dil_of(g), padl_of(g), padr_of(g)));
      }
      convolution_backward_weights::primitive_desc pd(*d, eng(), hint);
      n->prim = convolution_backward_weights(pd);
      n->slots = {Slot(DNNL_ARG_SRC, false, act_user_md(g), pd.src_desc()),
                  Slot(DNNL_ARG_DIFF_DST, false, out_user_md(g), pd.diff_dst_desc()),
                  Slot(DNNL_ARG_DIFF_WEIGHTS, true, w_user_md(g), pd.diff_weights_desc()),
                  Slot(DNNL_ARG_DIFF_BIAS, true, bias_md(g), bias_md(g))};
      return n;
    });
    run_entry(*e, {x, dy, dw, db});
    return undefined(env);
  });
}

// A convolution pooled on the fly, at inference (native-conv.ts defers a conv's output outside a tape; the pooling
// that reads it first asks for this): the batch runs in chunks of images whose conv output fits in a core's L2
// cache, each OpenMP thread taking whole chunks with a single-threaded primitive and pooling its chunk straight
// from that cache-resident buffer, so the conv output, the network's largest activation, never goes to memory.
// convPool(x, w, bias?, y, convGeometry, poolGeometry, max): y = maxpool or avgpool of conv(x). Returns false (and
// writes nothing) when the primitive would want other layouts than NHWC; the caller then runs the two ops.
struct ConvPoolEntry {
  ConvEntry conv;  // slots: weights
  bool usable = false;
  memory::desc pad_md;  // the primitive's scratchpad (user-managed: one per thread)
};

std::shared_ptr<ConvPoolEntry> conv_pool_entry(const ConvGeom& g, bool has_bias) {
  return cached<ConvPoolEntry>(key_of('P', has_bias, g), [&] {
    auto n = std::make_shared<ConvPoolEntry>();
    ThreadScope one(true);  // created for one thread: that is how each chunk runs
    auto pd = fwd_pd(g, has_bias, prop_kind::forward_inference, true);
    n->usable = pd.src_desc() == act_user_md(g) && pd.dst_desc() == out_user_md(g);
    n->conv.prim = convolution_forward(pd);
    n->conv.slots = {Slot(DNNL_ARG_WEIGHTS, false, w_user_md(g), pd.weights_desc())};
    n->pad_md = pd.scratchpad_desc();
    return n;
  });
}

// A chunk's conv output is kept under this many floats (256 KiB: half of a Zen 3 core's L2).
constexpr int64_t kChunkFloats = int64_t(1) << 16;

napi_value ConvPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 7);
    size_t nx, nw, nb, ny, npc, npp;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* w = f32(env, a.argv[1], &nw, "filter");
    float* b = f32(env, a.argv[2], &nb, "bias", true);
    float* y = f32(env, a.argv[3], &ny, "y");
    const int32_t* pc = i32(env, a.argv[4], &npc, "conv geometry");
    const int32_t* pp = i32(env, a.argv[5], &npp, "pool geometry");
    const bool is_max = arg_bool(env, a.argv[6]);
    const ConvGeom g = conv_geom(pc, npc);
    const PoolGeom pg = pool_geom(pp, npp);
    need(pg.N == g.N && pg.IH == g.OH && pg.IW == g.OW && pg.C == g.OC, "convpool: pool geometry");
    need(nx == size_t(g.N * g.IH * g.IW * g.IC), "convpool: x size");
    need(nw == size_t(g.KH * g.KW * g.IC * g.OC), "convpool: filter size");
    need(ny == size_t(pg.N * pg.OH * pg.OW * pg.C), "convpool: y size");
    need(!b || nb == size_t(g.OC), "convpool: bias size");
    const int nthr = omp_get_max_threads();
    const int64_t per_image = g.OH * g.OW * g.OC;
    // Chunks small enough for the cache, and at least two per thread so the threads stay balanced.
    int64_t chunk = std::max<int64_t>(1, kChunkFloats / per_image);
    chunk = std::min(chunk, std::max<int64_t>(1, (g.N + 2 * nthr - 1) / (2 * nthr)));
    const int64_t chunks = (g.N + chunk - 1) / chunk, rest = g.N - (chunks - 1) * chunk;
    ConvGeom gc = g, gr = g;
    gc.N = chunk;
    gr.N = rest;
    const int32_t token = npc > 17 ? pc[17] : 0;
    // The pooling of one chunk's conv output (in `out`) into y.
    auto pool_chunk = [&](const float* out, int64_t n0, int64_t nb_) {
      PoolGeom p = pg;
      p.N = nb_;
      float* yc = y + n0 * pg.OH * pg.OW * pg.C;
      for (int64_t n = 0; n < nb_; ++n)
        for (int64_t oh = 0; oh < pg.OH; ++oh) {
          if (is_max)
            max_pool_row(out, yc, p, n, oh);
          else
            avg_pool_row(out, yc, p, n, oh);
        }
    };
    if (wino_for(g, wino_shape(g))) {
      winograd_runs(true);
      auto u = winograd_filter(w, token, g.IC, g.OC);
      const WinoShape ws = wino_shape(g);
#pragma omp parallel num_threads(nthr)
      {
        thread_local std::vector<float> out;
        out.resize(size_t(chunk * per_image));
#pragma omp for schedule(static)
        for (int64_t c = 0; c < chunks; ++c) {
          const int64_t n0 = c * chunk, nb_ = c == chunks - 1 ? rest : chunk;
          winograd_conv(x + n0 * g.IH * g.IW * g.IC, u->data(), b, g.relu, out.data(), ws, 0, nb_);
          pool_chunk(out.data(), n0, nb_);
        }
      }
      return boolean(env, true);
    }
    auto ec = conv_pool_entry(gc, b != nullptr);
    auto er = rest == chunk ? ec : conv_pool_entry(gr, b != nullptr);
    if (!ec->usable || !er->usable) return boolean(env, false);
    memory wc = input_memory(ec->conv.slots[0], w, token);
    memory wr = er == ec ? wc : input_memory(er->conv.slots[0], w, token);
    const memory::desc bmd = bias_md(g);
#pragma omp parallel num_threads(nthr)
    {
      // Per-thread buffers, kept across calls (OpenMP's threads persist): no allocation, no page faults per batch.
      thread_local std::vector<float> out;
      thread_local std::vector<uint8_t> pad;
      out.resize(size_t(chunk * per_image));
      pad.resize(std::max(ec->pad_md.get_size(), er->pad_md.get_size()));
      stream s(eng());
#pragma omp for schedule(static)
      for (int64_t c = 0; c < chunks; ++c) {
        const int64_t n0 = c * chunk, nb_ = c == chunks - 1 ? rest : chunk;
        ConvPoolEntry& e = nb_ == chunk ? *ec : *er;
        const ConvGeom& geo = nb_ == chunk ? gc : gr;
        std::unordered_map<int, memory> args{
            {DNNL_ARG_SRC, memory(act_user_md(geo), eng(), x + n0 * g.IH * g.IW * g.IC)},
            {DNNL_ARG_WEIGHTS, nb_ == chunk ? wc : wr},
            {DNNL_ARG_DST, memory(out_user_md(geo), eng(), out.data())}};
        if (e.pad_md.get_size()) args.insert({DNNL_ARG_SCRATCHPAD, memory(e.pad_md, eng(), pad.data())});
        if (b) args.insert({DNNL_ARG_BIAS, memory(bmd, eng(), b)});
        e.conv.prim.execute(s, args);
        s.wait();
        pool_chunk(out.data(), n0, nb_);
      }
    }
    return boolean(env, true);
  });
}

}  // namespace

// winogradRuns(): convolutions the Winograd path ran so far, or -1 where it is off (no AVX2 or AVX-512 here,
// TUDUI_NATIVE_WINOGRAD=0, or winogradIsa('off')).
napi_value WinogradRuns(napi_env env, napi_callback_info) {
  return guarded(env, [&]() -> napi_value {
    napi_value r;
    NAPI_CALL(env, napi_create_int64(env, winograd_available() ? winograd_runs() : -1, &r));
    return r;
  });
}

// winogradIsa(name?): the instruction set of the Winograd path ('off', 'avx2', 'avx512'), after choosing `name`
// if given (an error if this core lacks it).
napi_value WinogradIsa(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 0);
    std::string name;
    if (a.argc > 0) {
      size_t len = 0;
      char buf[16];
      NAPI_CALL(env, napi_get_value_string_utf8(env, a.argv[0], buf, sizeof buf, &len));
      name.assign(buf, len);
    }
    const std::string isa = winograd_isa(a.argc > 0 ? name.c_str() : nullptr);
    napi_value r;
    NAPI_CALL(env, napi_create_string_utf8(env, isa.c_str(), isa.size(), &r));
    return r;
  });
}

bool register_conv(napi_env env, napi_value exports) {
  const Export fns[] = {{"convForward", ConvForward}, {"convBackwardData", ConvBackwardData},
                        {"convBackwardWeights", ConvBackwardWeights}, {"convPool", ConvPool},
                        {"winogradRuns", WinogradRuns}, {"winogradIsa", WinogradIsa}};
  return export_functions(env, exports, fns);
}

}  // namespace tudui
