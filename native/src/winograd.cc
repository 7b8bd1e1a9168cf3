// Winograd F(2×2, 5×5) convolution (see winograd.h). Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A per 2×2 output tile d of
// 6×6 inputs, with the interpolation points 0, 1, -1, 2, -2 and infinity (Lavin & Gray 2016; the matrices below
// follow from the points and were checked against direct convolution). Per block of tiles: the inputs transformed
// into V[36][tiles][IC], 36 small matrix products M[ξ] = V[ξ] U[ξ] with an AVX-512 register-blocked kernel, and
// the output transform with bias and relu. A block's V and M stay in L1/L2; the filter U in L2. The kernels
// (winograd_kernel.inc) are built twice, for AVX-512 and for AVX2 + FMA; the core's best one runs.
#include "winograd.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define TUDUI_WINOGRAD_X86 1
#include <immintrin.h>
#endif

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>

namespace tudui {
namespace {

constexpr int64_t kTile = 2, kAlpha = 6, kXi = kAlpha * kAlpha;

// G (6×5): the filter transform.
constexpr double kG[6][5] = {
    {1.0 / 4, 0, 0, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6, 1.0 / 3, 2.0 / 3},
    {1.0 / 24, -1.0 / 12, 1.0 / 6, -1.0 / 3, 2.0 / 3},
    {0, 0, 0, 0, 1},
};

// The instruction set the Winograd path runs with (0: off): the best the core has, or TUDUI_NATIVE_WINOGRAD
// (0, avx2, avx512) / winograd_isa.
constexpr int kOff = 0, kAvx2 = 1, kAvx512 = 2;
int best_isa() {
#ifdef TUDUI_WINOGRAD_X86
  if (__builtin_cpu_supports("avx512f")) return kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
#endif
  return kOff;  // other architectures: the direct kernels
}
constexpr const char* kIsaNames[] = {"off", "avx2", "avx512"};
int isa_named(const std::string& name) {
  if (name == "0") return kOff;
  for (int i = kOff; i <= kAvx512; ++i)
    if (name == kIsaNames[i]) return i;
  return -1;
}
std::atomic<int>& isa() {
  static std::atomic<int> current{[] {
    const int best = best_isa();
    const char* e = std::getenv("TUDUI_NATIVE_WINOGRAD");
    const int want = e ? isa_named(e) : best;
    return want < 0 || want > best ? best : want;
  }()};
  return current;
}

}  // namespace

#ifdef TUDUI_WINOGRAD_X86
#pragma GCC push_options
#pragma GCC target("avx512f")
namespace avx512 {
#define VEC __m512
#define VW 16
#define VZERO _mm512_setzero_ps
#define VLOAD _mm512_loadu_ps
#define VSTORE _mm512_storeu_ps
#define VADD _mm512_add_ps
#define VSUB _mm512_sub_ps
#define VMUL _mm512_mul_ps
#define VSET1 _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VMAX _mm512_max_ps
#define ROWS 8
#define BLOCK 32
#include "winograd_kernel.inc"
}  // namespace avx512
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#define VEC __m256
#define VW 8
#define VZERO _mm256_setzero_ps
#define VLOAD _mm256_loadu_ps
#define VSTORE _mm256_storeu_ps
#define VADD _mm256_add_ps
#define VSUB _mm256_sub_ps
#define VMUL _mm256_mul_ps
#define VSET1 _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VMAX _mm256_max_ps
#define ROWS 6  // 12 accumulators + 2 loads + a broadcast: the 16 ymm registers
#define BLOCK 24
#include "winograd_kernel.inc"
}  // namespace avx2
#pragma GCC pop_options
#endif

bool winograd_available() { return isa().load() != kOff; }

std::string winograd_isa(const char* name) {
  if (name) {
    const int want = isa_named(name);
    if (want < 0) throw std::invalid_argument(std::string("winograd: unknown instruction set '") + name + "' (off, avx2, avx512)");
    if (want > best_isa()) throw std::invalid_argument(std::string("winograd: this core has no ") + name);
    isa().store(want);
  }
  return kIsaNames[isa().load()];
}

void winograd_conv_batch(const float* x, const float* u, const float* bias, bool relu, float* y, const WinoShape& s) {
  winograd_runs(true);
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
    winograd_conv(x, u, bias, relu, y, s, s.N * t / k, s.N * (t + 1) / k);
  }
}

int64_t winograd_runs(bool count_one) {
  static std::atomic<int64_t> runs{0};
  return count_one ? ++runs : runs.load();
}

bool winograd_usable(const WinoShape& s, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw) {
  // Any padding: cells outside the input read as zeros, which is what padding after the input means too.
  return winograd_available() && kh == 5 && kw == 5 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && s.IC % 16 == 0 && s.OC % 16 == 0;
}

std::shared_ptr<const std::vector<float>> winograd_filter(const float* w, int32_t token, int64_t ic, int64_t oc,
                                                          bool transposed) {
  // One transform per filter array (and shape, direction), replaced when its token changes: a filter updated every
  // training step keeps one entry, not one per step. Called from the JS thread only, before any parallel region.
  using Key = std::tuple<const float*, int64_t, int64_t, bool>;
  struct Kept {
    int32_t token;
    std::shared_ptr<const std::vector<float>> u;
  };
  static std::map<Key, Kept> cache;
  const Key key{w, ic, oc, transposed};
  if (token != 0) {
    auto it = cache.find(key);
    if (it != cache.end() && it->second.token == token) return it->second.u;
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
    if (cache.size() >= 64 && !cache.count(key)) cache.clear();  // filters are few in practice
    cache[key] = {token, u};
  }
  return u;
}

void winograd_conv(const float* x, const float* u, const float* bias, bool relu, float* y, const WinoShape& s,
                   int64_t n0, int64_t n1) {
#ifdef TUDUI_WINOGRAD_X86
  if (isa().load() == kAvx512)
    avx512::conv(x, u, bias, relu, y, s, n0, n1);
  else
    avx2::conv(x, u, bias, relu, y, s, n0, n1);
#endif
}

}  // namespace tudui
