// Winograd F(2×2, 5×5) convolution (see winograd.h). Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A per 2×2 output tile d of
// 6×6 inputs, with the interpolation points 0, 1, -1, 2, -2 and infinity (Lavin & Gray 2016; the matrices below
// follow from the points and were checked against direct convolution). Per block of tiles: the inputs transformed
// into V[36][tiles][IC], 36 small matrix products M[ξ] = V[ξ] U[ξ] with an AVX-512 register-blocked kernel, and
// the output transform with bias and relu. A block's V and M stay in L1/L2; the filter U in L2.
#include "winograd.h"

#include <immintrin.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

namespace tudui {
namespace {

constexpr int64_t kTile = 2, kAlpha = 6, kXi = kAlpha * kAlpha;
// Tiles per block: a multiple of the kernel's 8 rows; V and M of a block take 36·32·(IC + OC) floats.
constexpr int64_t kBlock = 32;

// G (6×5): the filter transform.
constexpr double kG[6][5] = {
    {1.0 / 4, 0, 0, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
    {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
    {0, 0, 0, 0, 1},
};

// o_k = (Bᵀ a)_k for six vectors of 16 channels.
__attribute__((target("avx512f"))) inline void bt6(const __m512 a[6], __m512 o[6]) {
  const __m512 four = _mm512_set1_ps(4.f), five = _mm512_set1_ps(5.f), two = _mm512_set1_ps(2.f);
  const __m512 s34 = _mm512_add_ps(a[3], a[4]), s12 = _mm512_add_ps(a[1], a[2]);
  const __m512 d43 = _mm512_sub_ps(a[4], a[3]), d12 = _mm512_sub_ps(a[1], a[2]);
  const __m512 d42 = _mm512_sub_ps(a[4], a[2]), d31 = _mm512_sub_ps(a[3], a[1]);
  o[0] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, a[0]), _mm512_mul_ps(five, a[2])), a[4]);
  o[1] = _mm512_sub_ps(s34, _mm512_mul_ps(four, s12));
  o[2] = _mm512_add_ps(d43, _mm512_mul_ps(four, d12));
  o[3] = _mm512_add_ps(d42, _mm512_mul_ps(two, d31));
  o[4] = _mm512_sub_ps(d42, _mm512_mul_ps(two, d31));
  o[5] = _mm512_add_ps(_mm512_sub_ps(_mm512_mul_ps(four, a[1]), _mm512_mul_ps(five, a[3])), a[5]);
}

// (Aᵀ m)_0 and (Aᵀ m)_1 for six vectors.
__attribute__((target("avx512f"))) inline void at6(const __m512 m[6], __m512& r0, __m512& r1) {
  r0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(m[0], m[1]), _mm512_add_ps(m[2], m[3])), m[4]);
  r1 = _mm512_add_ps(_mm512_add_ps(_mm512_sub_ps(m[1], m[2]), _mm512_mul_ps(_mm512_set1_ps(2.f), _mm512_sub_ps(m[3], m[4]))),
                     m[5]);
}

// M (rows × OC) = V (rows × IC) · U (IC × OC) for rows a multiple of 8 and OC of 16: 8 rows × 32 columns of
// accumulators in registers, one broadcast of V and two loads of U per step.
__attribute__((target("avx512f"))) void block_product(const float* __restrict v, const float* __restrict u,
                                                      float* __restrict m, int64_t rows, int64_t ic, int64_t oc) {
  for (int64_t o = 0; o < oc; o += 32) {
    if (oc - o >= 32) {
      for (int64_t r = 0; r < rows; r += 8) {
        __m512 acc[8][2];
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) acc[k][0] = acc[k][1] = _mm512_setzero_ps();
        for (int64_t c = 0; c < ic; ++c) {
          const __m512 u0 = _mm512_loadu_ps(u + c * oc + o), u1 = _mm512_loadu_ps(u + c * oc + o + 16);
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) {
            const __m512 b = _mm512_set1_ps(v[(r + k) * ic + c]);
            acc[k][0] = _mm512_fmadd_ps(b, u0, acc[k][0]);
            acc[k][1] = _mm512_fmadd_ps(b, u1, acc[k][1]);
          }
        }
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          _mm512_storeu_ps(m + (r + k) * oc + o, acc[k][0]);
          _mm512_storeu_ps(m + (r + k) * oc + o + 16, acc[k][1]);
        }
      }
    } else {  // the last 16 columns
      for (int64_t r = 0; r < rows; r += 8) {
        __m512 acc[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) acc[k] = _mm512_setzero_ps();
        for (int64_t c = 0; c < ic; ++c) {
          const __m512 u0 = _mm512_loadu_ps(u + c * oc + o);
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) acc[k] = _mm512_fmadd_ps(_mm512_set1_ps(v[(r + k) * ic + c]), u0, acc[k]);
        }
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) _mm512_storeu_ps(m + (r + k) * oc + o, acc[k]);
      }
    }
  }
}

bool enabled() {
  static const bool on = [] {
    const char* e = std::getenv("TUDUI_NATIVE_WINOGRAD");
    return !(e && std::strcmp(e, "0") == 0) && __builtin_cpu_supports("avx512f");
  }();
  return on;
}

}  // namespace

bool winograd_available() { return enabled(); }

int64_t winograd_runs(bool count_one) {
  static std::atomic<int64_t> runs{0};
  return count_one ? ++runs : runs.load();
}

bool winograd_usable(const WinoShape& s, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  // Any padding: cells outside the input read as zeros, which is what padding after the input means too.
  return enabled() && kh == 5 && kw == 5 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && s.IC % 16 == 0 && s.OC % 16 == 0;
}

std::shared_ptr<const std::vector<float>> winograd_filter(const float* w, int32_t token, int64_t ic, int64_t oc,
                                                          bool transposed) {
  using Key = std::tuple<int32_t, int64_t, int64_t, bool>;
  static std::mutex mu;
  static std::map<Key, std::shared_ptr<const std::vector<float>>> cache;
  const Key key{token, ic, oc, transposed};
  if (token != 0) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
  }
  // The transformed filter's own input and output channels; a transposed filter is first laid out as the HWIO
  // filter of the gradient's convolution, so that both transform the same way, along contiguous output channels.
  const int64_t tin = transposed ? oc : ic, tout = transposed ? ic : oc;
  std::vector<float> flipped;
  if (transposed) {
    flipped.resize(size_t(25 * ic * oc));
    for (int64_t k = 0; k < 25; ++k)
      for (int64_t i = 0; i < ic; ++i)
        for (int64_t o = 0; o < oc; ++o) flipped[size_t(((24 - k) * oc + o) * ic + i)] = w[(k * ic + i) * oc + o];
    w = flipped.data();
  }
  auto u = std::make_shared<std::vector<float>>(size_t(kXi * ic * oc));
  float* out = u->data();
  // U[a][b] = Σ_l (Σ_k G[a][k] g[k][l]) G[b][l], for a run of output channels at a time
#pragma omp parallel for schedule(static) if (tin * tout >= 4096)
  for (int64_t i = 0; i < tin; ++i) {
    std::vector<float> t(size_t(6 * 5 * tout));
    for (int a = 0; a < 6; ++a)
      for (int l = 0; l < 5; ++l) {
        float* __restrict tr = &t[size_t((a * 5 + l) * tout)];
        for (int64_t o = 0; o < tout; ++o) tr[o] = 0.f;
        for (int k = 0; k < 5; ++k) {
          const float gk = float(kG[a][k]);
          if (gk == 0.f) continue;
          const float* __restrict wr = w + ((k * 5 + l) * tin + i) * tout;
          for (int64_t o = 0; o < tout; ++o) tr[o] += gk * wr[o];
        }
      }
    for (int a = 0; a < 6; ++a)
      for (int b = 0; b < 6; ++b) {
        float* __restrict ur = out + ((a * 6 + b) * tin + i) * tout;
        for (int64_t o = 0; o < tout; ++o) ur[o] = 0.f;
        for (int l = 0; l < 5; ++l) {
          const float gb = float(kG[b][l]);
          if (gb == 0.f) continue;
          const float* __restrict tr = &t[size_t((a * 5 + l) * tout)];
          for (int64_t o = 0; o < tout; ++o) ur[o] += tr[o] * gb;
        }
      }
  }
  if (token != 0) {
    std::lock_guard<std::mutex> lock(mu);
    if (cache.size() >= 64) cache.clear();  // filters are few in practice
    cache[key] = u;
  }
  return u;
}

__attribute__((target("avx512f"))) void winograd_conv(const float* x, const float* u, const float* bias, bool relu,
                                                      float* y, const WinoShape& s, int64_t n0, int64_t n1) {
  const int64_t IC = s.IC, OC = s.OC;
  const int64_t TH = (s.OH + kTile - 1) / kTile, TW = (s.OW + kTile - 1) / kTile, per_image = TH * TW;
  // Per-thread buffers, kept across calls: a block's V and M.
  thread_local std::vector<float> v, m;
  // The 36 planes of V and of M, each padded by a cache line: at a stride of a multiple of 4 KiB, a tile's 36
  // values would all fall into one L1 set.
  const int64_t vs = kBlock * IC + 16, ms = kBlock * OC + 16;
  v.resize(size_t(kXi * vs));
  m.resize(size_t(kXi * ms));
  const __m512 zero = _mm512_setzero_ps();
  const int64_t first = n0 * per_image, last = n1 * per_image;
  for (int64_t b0 = first; b0 < last; b0 += kBlock) {
    const int64_t count = std::min(kBlock, last - b0);
    // 1. input transform, 16 channels at a time: V[ξ][t][c] = (Bᵀ d B)[ξ][c], cells outside the input read as 0
    for (int64_t t = 0; t < kBlock; ++t) {
      if (t >= count) {
        for (int64_t xi = 0; xi < kXi; ++xi) std::memset(&v[size_t(xi * vs + t * IC)], 0, sizeof(float) * IC);
        continue;
      }
      const int64_t g = b0 + t, n = g / per_image, th = (g % per_image) / TW, tw = g % TW;
      const int64_t h0 = th * kTile - s.PT, w0 = tw * kTile - s.PL;
      const float* cell[6][6];
      for (int64_t i = 0; i < kAlpha; ++i)
        for (int64_t j = 0; j < kAlpha; ++j) {
          const int64_t ih = h0 + i, iw = w0 + j;
          cell[i][j] = ih < 0 || ih >= s.IH || iw < 0 || iw >= s.IW ? nullptr : x + ((n * s.IH + ih) * s.IW + iw) * IC;
        }
      for (int64_t c = 0; c < IC; c += 16) {
        __m512 col[6][6];  // col[j][i] = (Bᵀ d)[i][j]
        for (int j = 0; j < 6; ++j) {
          __m512 a[6];
          for (int i = 0; i < 6; ++i) a[i] = cell[i][j] ? _mm512_loadu_ps(cell[i][j] + c) : zero;
          bt6(a, col[j]);
        }
        for (int i = 0; i < 6; ++i) {
          __m512 a[6], o[6];
          for (int j = 0; j < 6; ++j) a[j] = col[j][i];
          bt6(a, o);
          for (int j = 0; j < 6; ++j) _mm512_storeu_ps(&v[size_t((i * kAlpha + j) * vs + t * IC + c)], o[j]);
        }
      }
    }
    // 2. the 36 products M[ξ] = V[ξ] U[ξ]
    for (int64_t xi = 0; xi < kXi; ++xi)
      block_product(&v[size_t(xi * vs)], u + xi * IC * OC, &m[size_t(xi * ms)], kBlock, IC, OC);
    // 3. output transform, 16 channels at a time: Y = Aᵀ M A, plus bias, relu; only outputs inside the image written
    const int64_t xs = ms;  // stride between ξ
    for (int64_t t = 0; t < count; ++t) {
      const int64_t g = b0 + t, n = g / per_image, th = (g % per_image) / TW, tw = g % TW;
      const int64_t oh0 = th * kTile, ow0 = tw * kTile;
      const bool h1 = oh0 + 1 < s.OH, w1 = ow0 + 1 < s.OW;
      float* y00 = y + ((n * s.OH + oh0) * s.OW + ow0) * OC;
      float* y10 = y00 + s.OW * OC;
      const float* mt = &m[size_t(t * OC)];
      for (int64_t o = 0; o < OC; o += 16) {
        __m512 r0[6], r1[6];  // rows of Aᵀ M
        for (int j = 0; j < 6; ++j) {
          __m512 a[6];
          for (int i = 0; i < 6; ++i) a[i] = _mm512_loadu_ps(mt + (i * 6 + j) * xs + o);
          at6(a, r0[j], r1[j]);
        }
        const __m512 b = bias ? _mm512_loadu_ps(bias + o) : zero;
        __m512 q[2][2];
        at6(r0, q[0][0], q[0][1]);
        at6(r1, q[1][0], q[1][1]);
        for (int p = 0; p < 2; ++p)
          for (int k = 0; k < 2; ++k) {
            q[p][k] = _mm512_add_ps(q[p][k], b);
            // vmaxps hands back its second operand when one is NaN: NaN stays NaN, as in oneDNN's relu
            if (relu) q[p][k] = _mm512_max_ps(zero, q[p][k]);
          }
        _mm512_storeu_ps(y00 + o, q[0][0]);
        if (w1) _mm512_storeu_ps(y00 + OC + o, q[0][1]);
        if (h1) {
          _mm512_storeu_ps(y10 + o, q[1][0]);
          if (w1) _mm512_storeu_ps(y10 + OC + o, q[1][1]);
        }
      }
    }
  }
}

}  // namespace tudui
