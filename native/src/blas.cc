// Matrix products and reductions of the 'tudui-native' backend: dnnl_sgemm for (batched, transposed) matrix
// products, and OpenMP loops for the sums over outer or inner axes (bias gradients, means) and the bias add.
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "napi_util.h"
#include "tudui_native.h"

namespace tudui {
namespace {

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

}  // namespace

bool register_blas(napi_env env, napi_value exports) {
  const Export fns[] = {{"matMul", MatMul}, {"sumOuter", SumOuter}, {"sumInner", SumInner}, {"addBias", AddBias}};
  return export_functions(env, exports, fns);
}

}  // namespace tudui
