// The pooling loops that pooling.cc (MaxPool, AvgPool) and conv.cc (a convolution pooled on the fly, ConvPool)
// share: the geometry, the window iterator and one output row of max and average pooling, NHWC.
#pragma once
#include <cstdint>
#include <limits>

#include "napi_util.h"

namespace tudui {
namespace {

// Geometry: [N, IH, IW, C, KH, KW, OH, OW, SH, SW, PT, PL]. Semantics follow tfjs's cpu backend: padded cells
// are skipped (never win a max, never count in an average); the max gradient goes to the first maximum in
// row-major window order (strictly-greater comparison, so NaNs never win).

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

// Calls f(cell, xi) for each in-bounds cell of output (n, oh, ow)'s window in row-major order: cell = kh * KW + kw,
// xi = the C channels there of x (an input, or a gradient laid out like it). Inlined into each caller, whose
// channel loop stays vectorised.
template <typename T, typename F>
inline void for_each_cell(T* x, const PoolGeom& g, int64_t n, int64_t oh, int64_t ow, F&& f) {
  const int64_t h0 = oh * g.SH - g.PT, w0 = ow * g.SW - g.PL;
  for (int64_t kh = 0; kh < g.KH; ++kh) {
    const int64_t ih = h0 + kh;
    if (ih < 0 || ih >= g.IH) continue;
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t iw = w0 + kw;
      if (iw < 0 || iw >= g.IW) continue;
      f(int32_t(kh * g.KW + kw), x + ((n * g.IH + ih) * g.IW + iw) * g.C);
    }
  }
}

TUDUI_CLONES void max_pool_row(const float* x, float* y, const PoolGeom& g, int64_t n, int64_t oh) {
  const int64_t C = g.C;
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    float* __restrict o = y + ((n * g.OH + oh) * g.OW + ow) * C;
    for (int64_t c = 0; c < C; ++c) o[c] = -std::numeric_limits<float>::infinity();
    for_each_cell(x, g, n, oh, ow, [&](int32_t, const float* __restrict xi) {
      for (int64_t c = 0; c < C; ++c) o[c] = xi[c] > o[c] ? xi[c] : o[c];
    });
  }
}

TUDUI_CLONES void avg_pool_row(const float* x, float* y, const PoolGeom& g, int64_t n, int64_t oh) {
  const int64_t C = g.C;
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    float* __restrict o = y + ((n * g.OH + oh) * g.OW + ow) * C;
    for (int64_t c = 0; c < C; ++c) o[c] = 0.f;
    int count = 0;
    for_each_cell(x, g, n, oh, ow, [&](int32_t, const float* __restrict xi) {
      ++count;
      for (int64_t c = 0; c < C; ++c) o[c] += xi[c];
    });
    const float inv = count > 0 ? 1.f / float(count) : 0.f;
    for (int64_t c = 0; c < C; ++c) o[c] *= inv;
  }
}

}  // namespace
}  // namespace tudui
