// Element-wise and data-movement kernels for the 'tudui-native' backend.
//
// Activations (forward and backward) and softmax run on oneDNN primitives (vectorised, threaded), created once per
// (kind, shape, parameters) and cached. Broadcasting binary arithmetic, padding and slicing, the dropout mask and
// the optimizer updates are plain loops parallelised with OpenMP over rows.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "napi_util.h"
#include "tudui_native.h"

using namespace dnnl;

namespace tudui {
namespace {

// ---------------------------------------------------------------------------------------------- activations
// The algorithm ids shared with src/backends/native-ops.ts (ELTWISE).
algorithm eltwise_alg(int64_t id, bool backward) {
  switch (id) {
    case 0: return backward ? algorithm::eltwise_relu_use_dst_for_bwd : algorithm::eltwise_relu;  // alpha: slope
    case 1: return algorithm::eltwise_relu;  // leaky relu from x (alpha = slope), backward from src
    case 2: return algorithm::eltwise_gelu_erf;
    case 3: return backward ? algorithm::eltwise_logistic_use_dst_for_bwd : algorithm::eltwise_logistic;
    case 4: return backward ? algorithm::eltwise_tanh_use_dst_for_bwd : algorithm::eltwise_tanh;
    case 5: return backward ? algorithm::eltwise_elu_use_dst_for_bwd : algorithm::eltwise_elu;
    case 6: return algorithm::eltwise_exp;
    case 7: return algorithm::eltwise_log;
    case 8: return algorithm::eltwise_linear;  // alpha·x + beta (Neg: -1, 0)
    case 9: return algorithm::eltwise_sqrt;
    case 10: return algorithm::eltwise_square;
    case 11: return algorithm::eltwise_abs;
    case 12: return algorithm::eltwise_soft_relu;
    case 13: return algorithm::eltwise_clip_v2;  // relu6: clip(0, 6)
    case 14: return algorithm::eltwise_round;
    // 100 floor, 101 erf, 102 ceil, 103 reciprocal: loops in Eltwise (forward only)
    default: throw JsError{"eltwise: unknown algorithm"};
  }
}

struct EltEntry {
  primitive prim;
};

// eltwise(alg, x, y, alpha, beta): y = f(x)
napi_value Eltwise(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    const int64_t id = arg_i64(env, a.argv[0]);
    size_t nx, ny;
    float* x = f32(env, a.argv[1], &nx, "x");
    float* y = f32(env, a.argv[2], &ny, "y");
    const float alpha = float(arg_f64(env, a.argv[3])), beta = float(arg_f64(env, a.argv[4]));
    need(nx == ny && nx > 0, "eltwise: sizes");
    ThreadScope threads(nx < kSmallElements);
    if (id >= 100) {  // functions oneDNN lacks: plain loops
#pragma omp parallel for schedule(static) if (big(nx))
      for (size_t i = 0; i < nx; ++i) {
        const float v = x[i];
        y[i] = id == 100 ? std::floor(v) : id == 101 ? std::erf(v) : id == 102 ? std::ceil(v) : 1.f / v;
      }
      return undefined(env);
    }
    const std::string key = "EF" + std::to_string(id) + "|" + std::to_string(nx) + "|" + std::to_string(alpha) + "|" + std::to_string(beta);
    auto e = cached<EltEntry>(key, [&] {
      auto r = std::make_shared<EltEntry>();
      eltwise_forward::desc d(prop_kind::forward_training, eltwise_alg(id, false), flat_md(int64_t(nx)), alpha, beta);
      r->prim = eltwise_forward(eltwise_forward::primitive_desc(d, eng()));
      return r;
    });
    memory mx(flat_md(int64_t(nx)), eng(), x), my(flat_md(int64_t(nx)), eng(), y);
    e->prim.execute(strm(), {{DNNL_ARG_SRC, mx}, {DNNL_ARG_DST, my}});
    strm().wait();
    return undefined(env);
  });
}

// eltwiseGrad(alg, v, dy, dx, alpha, beta): dx = f'(·)·dy, with v = y for relu/sigmoid/tanh/elu (ids 0, 3, 4, 5),
// v = x otherwise.
napi_value EltwiseGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 6);
    const int64_t id = arg_i64(env, a.argv[0]);
    size_t nv, ndy, ndx;
    float* v = f32(env, a.argv[1], &nv, "v");
    float* dy = f32(env, a.argv[2], &ndy, "dy");
    float* dx = f32(env, a.argv[3], &ndx, "dx");
    const float alpha = float(arg_f64(env, a.argv[4])), beta = float(arg_f64(env, a.argv[5]));
    need(nv == ndy && nv == ndx && nv > 0, "eltwiseGrad: sizes");
    ThreadScope threads(nv < kSmallElements);
    const bool use_dst = id == 0 || id == 3 || id == 4 || id == 5;
    const std::string key = "EB" + std::to_string(id) + "|" + std::to_string(nv) + "|" + std::to_string(alpha) + "|" + std::to_string(beta);
    auto e = cached<EltEntry>(key, [&] {
      auto r = std::make_shared<EltEntry>();
      const memory::desc md = flat_md(int64_t(nv));
      const algorithm alg = eltwise_alg(id, true);
      eltwise_forward::primitive_desc hint(eltwise_forward::desc(prop_kind::forward_training, alg, md, alpha, beta), eng());
      eltwise_backward::desc d(alg, md, md, alpha, beta);
      r->prim = eltwise_backward(eltwise_backward::primitive_desc(d, eng(), hint));
      return r;
    });
    const memory::desc md = flat_md(int64_t(nv));
    memory mv(md, eng(), v), mdy(md, eng(), dy), mdx(md, eng(), dx);
    e->prim.execute(strm(), {{use_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, mv}, {DNNL_ARG_DIFF_DST, mdy}, {DNNL_ARG_DIFF_SRC, mdx}});
    strm().wait();
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- softmax
// softmax(x, y, rows, cols, log): softmax (or log-softmax) over the last axis.
napi_value Softmax(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    size_t nx, ny;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* y = f32(env, a.argv[1], &ny, "y");
    const int64_t rows = arg_i64(env, a.argv[2]), cols = arg_i64(env, a.argv[3]);
    const bool log = arg_bool(env, a.argv[4]);
    need(nx == ny && nx == size_t(rows * cols) && nx > 0, "softmax: sizes");
    ThreadScope threads(nx < kSmallElements);
    const std::string key = std::string(log ? "LS" : "SM") + std::to_string(rows) + "x" + std::to_string(cols);
    auto e = cached<EltEntry>(key, [&] {
      auto r = std::make_shared<EltEntry>();
      softmax_v2_forward::desc d(prop_kind::forward_training, log ? algorithm::softmax_log : algorithm::softmax_accurate,
                                 rows_md(rows, cols), rows_md(rows, cols), 1);
      r->prim = softmax_v2_forward(softmax_v2_forward::primitive_desc(d, eng()));
      return r;
    });
    memory mx(rows_md(rows, cols), eng(), x), my(rows_md(rows, cols), eng(), y);
    e->prim.execute(strm(), {{DNNL_ARG_SRC, mx}, {DNNL_ARG_DST, my}});
    strm().wait();
    return undefined(env);
  });
}

// softmaxXent(logits, labels, loss, probs, rows, cols, smoothing): per-row cross-entropy of softmax(logits) against
// one-hot labels smoothed to (1 - s)·onehot + s/cols (PyTorch's label_smoothing); probs = softmax(logits), kept for
// the gradient (probs - target)·dy.
napi_value SoftmaxXent(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 7);
    size_t nx, nl, nloss, np;
    const float* x = f32(env, a.argv[0], &nx, "logits");
    const int32_t* lab = i32(env, a.argv[1], &nl, "labels");
    float* loss = f32(env, a.argv[2], &nloss, "loss");
    float* probs = f32(env, a.argv[3], &np, "probs");
    const int64_t rows = arg_i64(env, a.argv[4]), cols = arg_i64(env, a.argv[5]);
    const double s = arg_f64(env, a.argv[6]);
    need(nx == size_t(rows * cols) && np == nx && nl == size_t(rows) && nloss == size_t(rows) && cols > 0, "softmaxXent: sizes");
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * cols;
      float* pr = probs + r * cols;
      float m = xr[0];
      for (int64_t j = 1; j < cols; ++j) m = xr[j] > m ? xr[j] : m;
      double sum = 0;
      for (int64_t j = 0; j < cols; ++j) sum += std::exp(double(xr[j]) - m);
      const double lse = std::log(sum) + m;
      const int32_t k = lab[r];
      need(k >= 0 && k < cols, "softmaxXent: label out of range");
      double l = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const double logp = double(xr[j]) - lse;
        pr[j] = float(std::exp(logp));
        const double t = (j == k ? 1.0 - s : 0.0) + s / double(cols);
        l -= t * logp;
      }
      loss[r] = float(l);
    }
    return undefined(env);
  });
}


// ---------------------------------------------------------------------------------------------- broadcasting binary
// binary(op, a, b, out, geom): out = a ∘ b with numpy broadcasting. geom = [rank, out dims..., a strides...,
// b strides...] (a stride of 0 on a broadcast axis). ops: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min,
// 6 squared difference. float32 results equal tfjs's cpu kernels (exact IEEE operations).
template <int OP>
inline float apply_op(float x, float y) {
  if (OP == 0) return x + y;
  if (OP == 1) return x - y;
  if (OP == 2) return x * y;
  if (OP == 3) return x / y;
  if (OP == 4) return (x != x || y != y) ? NAN : (x > y ? x : y);
  if (OP == 5) return (x != x || y != y) ? NAN : (x < y ? x : y);
  const float d = x - y;
  return d * d;
}

template <int OP>
TUDUI_CLONES void binary_row(const float* __restrict a, int64_t sa, const float* __restrict b, int64_t sb,
                             float* __restrict o, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t j = 0; j < n; ++j) o[j] = apply_op<OP>(a[j], b[j]);
  } else if (sa == 1 && sb == 0) {
    const float v = b[0];
    for (int64_t j = 0; j < n; ++j) o[j] = apply_op<OP>(a[j], v);
  } else if (sa == 0 && sb == 1) {
    const float v = a[0];
    for (int64_t j = 0; j < n; ++j) o[j] = apply_op<OP>(v, b[j]);
  } else {
    for (int64_t j = 0; j < n; ++j) o[j] = apply_op<OP>(a[j * sa], b[j * sb]);
  }
}

template <int OP>
void binary_nd(const float* a, const float* b, float* o, int rank, const int64_t* dims, const int64_t* sa,
               const int64_t* sb) {
  const int64_t inner = dims[rank - 1];
  int64_t outer = 1;
  for (int i = 0; i < rank - 1; ++i) outer *= dims[i];
#pragma omp parallel for schedule(static) if (big(size_t(outer * inner)) && outer > 1)
  for (int64_t r = 0; r < outer; ++r) {
    int64_t rem = r, oa = 0, ob = 0;
    for (int i = rank - 2; i >= 0; --i) {
      const int64_t k = rem % dims[i];
      rem /= dims[i];
      oa += k * sa[i];
      ob += k * sb[i];
    }
    binary_row<OP>(a + oa, sa[rank - 1], b + ob, sb[rank - 1], o + r * inner, inner);
  }
}

napi_value Binary(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    const int64_t op = arg_i64(env, a.argv[0]);
    size_t na, nb, no, ng;
    const float* x = f32(env, a.argv[1], &na, "a");
    const float* y = f32(env, a.argv[2], &nb, "b");
    float* o = f32(env, a.argv[3], &no, "out");
    const int32_t* g = i32(env, a.argv[4], &ng, "geometry");
    need(ng >= 1, "binary: geometry");
    const int rank = g[0];
    need(rank >= 1 && rank <= 8 && ng == size_t(1 + 3 * rank), "binary: geometry size");
    int64_t dims[8], sa[8], sb[8];
    int64_t n = 1, maxa = 0, maxb = 0;
    for (int i = 0; i < rank; ++i) {
      dims[i] = g[1 + i];
      sa[i] = g[1 + rank + i];
      sb[i] = g[1 + 2 * rank + i];
      n *= dims[i];
      maxa += (dims[i] - 1) * sa[i];
      maxb += (dims[i] - 1) * sb[i];
    }
    need(no == size_t(n) && n > 0 && size_t(maxa) < na && size_t(maxb) < nb, "binary: sizes");
    switch (op) {
      case 0: binary_nd<0>(x, y, o, rank, dims, sa, sb); break;
      case 1: binary_nd<1>(x, y, o, rank, dims, sa, sb); break;
      case 2: binary_nd<2>(x, y, o, rank, dims, sa, sb); break;
      case 3: binary_nd<3>(x, y, o, rank, dims, sa, sb); break;
      case 4: binary_nd<4>(x, y, o, rank, dims, sa, sb); break;
      case 5: binary_nd<5>(x, y, o, rank, dims, sa, sb); break;
      case 6: binary_nd<6>(x, y, o, rank, dims, sa, sb); break;
      default: throw JsError{"binary: unknown op"};
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- pad and slice
// copyBox(src, dst, geom, fill): geom = [rank, src dims..., dst dims..., offset...]: dst[i] = src[i + offset] where
// in range, else fill (pad: offset = -before; slice: offset = begin). Rows of the last axis are copied with memcpy.
napi_value CopyBox(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t ns, nd, ng;
    const float* src = f32(env, a.argv[0], &ns, "src");
    float* dst = f32(env, a.argv[1], &nd, "dst");
    const int32_t* g = i32(env, a.argv[2], &ng, "geometry");
    const float fill = float(arg_f64(env, a.argv[3]));
    need(ng >= 1, "copyBox: geometry");
    const int rank = g[0];
    need(rank >= 1 && rank <= 8 && ng == size_t(1 + 3 * rank), "copyBox: geometry size");
    int64_t sd[8], dd[8], off[8], sstr[8];
    int64_t nsrc = 1, ndst = 1;
    for (int i = 0; i < rank; ++i) {
      sd[i] = g[1 + i];
      dd[i] = g[1 + rank + i];
      off[i] = g[1 + 2 * rank + i];
      nsrc *= sd[i];
      ndst *= dd[i];
    }
    need(size_t(nsrc) == ns && size_t(ndst) == nd, "copyBox: sizes");
    if (nd == 0) return undefined(env);
    sstr[rank - 1] = 1;
    for (int i = rank - 2; i >= 0; --i) sstr[i] = sstr[i + 1] * sd[i + 1];
    const int64_t inner = dd[rank - 1];
    const int64_t outer = ndst / inner;
    // Columns of the last axis that come from the source: [lo, hi).
    const int64_t lo = std::max<int64_t>(0, -off[rank - 1]);
    const int64_t hi = std::min<int64_t>(inner, sd[rank - 1] - off[rank - 1]);
#pragma omp parallel for schedule(static) if (big(nd) && outer > 1)
    for (int64_t r = 0; r < outer; ++r) {
      float* o = dst + r * inner;
      int64_t rem = r, so = 0;
      bool inside = true;
      for (int i = rank - 2; i >= 0; --i) {
        const int64_t k = rem % dd[i] + off[i];
        rem /= dd[i];
        if (k < 0 || k >= sd[i]) inside = false;
        so += k * sstr[i];
      }
      if (!inside || hi <= lo) {
        for (int64_t j = 0; j < inner; ++j) o[j] = fill;
        continue;
      }
      for (int64_t j = 0; j < lo; ++j) o[j] = fill;
      std::memcpy(o + lo, src + so + lo + off[rank - 1], size_t(hi - lo) * sizeof(float));
      for (int64_t j = hi; j < inner; ++j) o[j] = fill;
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- dropout mask
// dropoutMask(state, keep, mask): tf.dropout's multiplier floor(u + keep) / keep, with u drawn from seedrandom's
// alea generator (the one tf.randomUniform uses) started at `state` = [c, s0, s1, s2] (Float64Array). The generator
// is double arithmetic that C++ reproduces exactly (no contraction: -ffp-contract=off); u is rounded to float32 as
// tfjs stores it, and the add and divide are float32 operations as tfjs's kernels round them: bit-identical masks.
napi_value DropoutMask(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 3);
    size_t ns, nm;
    const double* st = typed_ptr<double>(env, a.argv[0], napi_float64_array, &ns, "state");
    const float keep = float(arg_f64(env, a.argv[1]));
    float* m = f32(env, a.argv[2], &nm, "mask");
    need(ns == 4, "dropoutMask: state is [c, s0, s1, s2]");
    double c = st[0], s0 = st[1], s1 = st[2], s2 = st[3];
    for (size_t i = 0; i < nm; ++i) {
      const double t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = double(int32_t(t));  // t | 0 (t is in [0, 2^31))
      s2 = t - c;
      const float u = float(s2);
      m[i] = std::floor(u + keep) / keep;
    }
    return undefined(env);
  });
}

// ---------------------------------------------------------------------------------------------- optimizer updates
// In place, with the float32 operations of src/train/optimizers.ts's JS loops in the same order (the addon is built
// with -ffp-contract=off, so no fused multiply-adds), hence bit-identical weights. Scalars arrive float32-rounded.

// sgdUpdate(p, g, buf|null, s): s = [lr, wd, mu, first, nesterov].
napi_value SgdUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t np, ng, nb, ns;
    float* p = f32(env, a.argv[0], &np, "p");
    const float* g = f32(env, a.argv[1], &ng, "g");
    float* buf = f32(env, a.argv[2], &nb, "momentum", true);
    const float* s = f32(env, a.argv[3], &ns, "scalars");
    need(ng == np && (!buf || nb == np) && ns == 5, "sgdUpdate: sizes");
    const float lr = s[0], wd = s[1], mu = s[2];
    const bool first = s[3] != 0, nesterov = s[4] != 0;
    const int64_t n = int64_t(np);
#pragma omp parallel for schedule(static) if (big(np))
    for (int64_t i = 0; i < n; ++i) {
      const float gi = wd != 0 ? g[i] + p[i] * wd : g[i];
      if (!buf) {
        p[i] = p[i] - gi * lr;
        continue;
      }
      const float next = first ? gi : buf[i] * mu + gi;
      buf[i] = next;
      p[i] = p[i] - (nesterov ? gi + next * mu : next) * lr;
    }
    return undefined(env);
  });
}

// adamUpdate(p, g, m, v, s): s = [lr, wd, decay, b1, b2, 1-b1, 1-b2, bc1, bc2, eps] (decay = 1 - lr·wd for AdamW).
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    size_t np, ng, nm, nv, ns;
    float* p = f32(env, a.argv[0], &np, "p");
    const float* g = f32(env, a.argv[1], &ng, "g");
    float* m = f32(env, a.argv[2], &nm, "m");
    float* v = f32(env, a.argv[3], &nv, "v");
    const float* s = f32(env, a.argv[4], &ns, "scalars");
    need(ng == np && nm == np && nv == np && ns == 10, "adamUpdate: sizes");
    const float lr = s[0], wd = s[1], decay = s[2], b1 = s[3], b2 = s[4], ib1 = s[5], ib2 = s[6], bc1 = s[7], bc2 = s[8], eps = s[9];
    const int64_t n = int64_t(np);
#pragma omp parallel for schedule(static) if (big(np))
    for (int64_t i = 0; i < n; ++i) {
      const float pi = p[i];
      const float base = decay != 1 ? pi * decay : pi;
      const float gi = wd != 0 ? g[i] + pi * wd : g[i];
      const float mi = m[i] * b1 + gi * ib1;
      const float vi = v[i] * b2 + (gi * gi) * ib2;
      m[i] = mi;
      v[i] = vi;
      const float denom = std::sqrt(vi / bc2) + eps;
      p[i] = base - ((mi / bc1) / denom) * lr;
    }
    return undefined(env);
  });
}

// rmspropUpdate(p, g, sq, buf|null, s): s = [lr, wd, alpha, 1-alpha, eps, mu].
napi_value RmspropUpdate(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 5);
    size_t np, ng, nq, nb, ns;
    float* p = f32(env, a.argv[0], &np, "p");
    const float* g = f32(env, a.argv[1], &ng, "g");
    float* sq = f32(env, a.argv[2], &nq, "square_avg");
    float* buf = f32(env, a.argv[3], &nb, "momentum", true);
    const float* s = f32(env, a.argv[4], &ns, "scalars");
    need(ng == np && nq == np && (!buf || nb == np) && ns == 6, "rmspropUpdate: sizes");
    const float lr = s[0], wd = s[1], alpha = s[2], ia = s[3], eps = s[4], mu = s[5];
    const int64_t n = int64_t(np);
#pragma omp parallel for schedule(static) if (big(np))
    for (int64_t i = 0; i < n; ++i) {
      const float gi = wd != 0 ? g[i] + p[i] * wd : g[i];
      const float q = sq[i] * alpha + (gi * gi) * ia;
      sq[i] = q;
      float u = gi / (std::sqrt(q) + eps);
      if (buf) {
        u = buf[i] * mu + u;
        buf[i] = u;
      }
      p[i] = p[i] - u * lr;
    }
    return undefined(env);
  });
}

}  // namespace

bool register_eltwise(napi_env env, napi_value exports) {
  const Export fns[] = {{"eltwise", Eltwise},       {"eltwiseGrad", EltwiseGrad},     {"softmax", Softmax},
                        {"softmaxXent", SoftmaxXent}, {"binary", Binary},             {"copyBox", CopyBox},
                        {"dropoutMask", DropoutMask}, {"sgdUpdate", SgdUpdate},       {"adamUpdate", AdamUpdate},
                        {"rmspropUpdate", RmspropUpdate}};
  return export_functions(env, exports, fns);
}

}  // namespace tudui
