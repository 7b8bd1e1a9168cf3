// Pooling of the 'tudui-native' backend: max and average pooling and their gradients on NHWC tensors, plain loops
// parallelised with OpenMP.
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "napi_util.h"
#include "pool_rows.h"
#include "tudui_native.h"

namespace tudui {
namespace {

// The same maximum, also recording which cell of its window won (kh * KW + kw; kNoCell when none did, i.e. the
// window held only -inf/NaN or padding), so the gradient need not read x again (see MaxPoolGradMask).
constexpr uint8_t kNoCell = 255;

TUDUI_CLONES void max_pool_row_mask(const float* __restrict x, float* __restrict y, uint8_t* __restrict m,
                                    const PoolGeom& g, int64_t n, int64_t oh, int32_t* __restrict cells) {
  const int64_t C = g.C;
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    const int64_t o0 = ((n * g.OH + oh) * g.OW + ow) * C;
    float* __restrict o = y + o0;
    for (int64_t c = 0; c < C; ++c) {
      o[c] = -std::numeric_limits<float>::infinity();
      cells[c] = kNoCell;
    }
    for_each_cell(x, g, n, oh, ow, [&](int32_t cell, const float* __restrict xi) {
      // 32-bit lanes throughout (the winner's cell in int32) so the loop vectorises; narrowed once below.
      // The selects written as bit masks: GCC otherwise emits masked stores, which are slow on AMD cores.
      for (int64_t c = 0; c < C; ++c) {
        const float v = xi[c], cur = o[c];
        const int32_t gt = -int32_t(v > cur);
        o[c] = v > cur ? v : cur;
        cells[c] = (cells[c] & ~gt) | (cell & gt);
      }
    });
    uint8_t* __restrict mo = m + o0;
    for (int64_t c = 0; c < C; ++c) mo[c] = uint8_t(cells[c]);
  }
}

// maxPool(x, y, geometry, mask?): mask (Uint8Array of y's length, windows of < 255 cells) receives the winners.
napi_value MaxPool(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 3);
    size_t nx, ny, np, nm = 0;
    float* x = f32(env, a.argv[0], &nx, "x");
    float* y = f32(env, a.argv[1], &ny, "y");
    const int32_t* p = i32(env, a.argv[2], &np, "geometry");
    uint8_t* m = a.argc > 3 ? typed_ptr<uint8_t>(env, a.argv[3], napi_uint8_array, &nm, "mask", true) : nullptr;
    PoolGeom g = pool_geom(p, np);
    need(nx == size_t(g.N * g.IH * g.IW * g.C) && ny == size_t(g.N * g.OH * g.OW * g.C), "maxpool: sizes");
    need(!m || (nm == ny && g.KH * g.KW < kNoCell), "maxpool: mask size");
    if (m) {
#pragma omp parallel if (big(nx))
      {
        std::vector<int32_t> cells(g.C);
#pragma omp for collapse(2) schedule(static)
        for (int64_t n = 0; n < g.N; ++n)
          for (int64_t oh = 0; oh < g.OH; ++oh) max_pool_row_mask(x, y, m, g, n, oh, cells.data());
      }
    } else {
#pragma omp parallel for collapse(2) schedule(static) if (big(nx))
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t oh = 0; oh < g.OH; ++oh) max_pool_row(x, y, g, n, oh);
    }
    return undefined(env);
  });
}

// Gradient from the forward's mask: reads dy and the mask (a quarter of x's bytes for 2×2 windows) instead of x.
// Tiling windows (stride == window, no padding, no remainder) write each dx cell once; others zero dx and add.
TUDUI_CLONES void max_pool_grad_mask_tiled_row(const float* __restrict dy, const uint8_t* __restrict m,
                                               float* __restrict dx, const PoolGeom& g, int64_t n, int64_t oh) {
  const int64_t C = g.C;
  for (int64_t ow = 0; ow < g.OW; ++ow) {
    const int64_t o0 = ((n * g.OH + oh) * g.OW + ow) * C;
    const float* __restrict d = dy + o0;
    const uint8_t* __restrict mo = m + o0;
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const uint8_t cell = uint8_t(kh * g.KW + kw);
        float* __restrict o = dx + ((n * g.IH + oh * g.KH + kh) * g.IW + ow * g.KW + kw) * C;
        for (int64_t c = 0; c < C; ++c) o[c] = mo[c] == cell ? d[c] : 0.f;
      }
  }
}

TUDUI_CLONES void max_pool_grad_mask_image(const float* __restrict dy, const uint8_t* __restrict m,
                                           float* __restrict dx, const PoolGeom& g, int64_t n) {
  const int64_t C = g.C;
  std::memset(dx + n * g.IH * g.IW * C, 0, sizeof(float) * g.IH * g.IW * C);
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      const int64_t o0 = ((n * g.OH + oh) * g.OW + ow) * C;
      const float* __restrict d = dy + o0;
      const uint8_t* __restrict mo = m + o0;
      for_each_cell(dx, g, n, oh, ow, [&](int32_t cell, float* __restrict o) {
        for (int64_t c = 0; c < C; ++c) o[c] += mo[c] == cell ? d[c] : 0.f;
      });
    }
}

napi_value MaxPoolGradMask(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    Args a(env, info, 4);
    size_t ndy, nm, ndx, np;
    float* dy = f32(env, a.argv[0], &ndy, "dy");
    const uint8_t* m = typed_ptr<uint8_t>(env, a.argv[1], napi_uint8_array, &nm, "mask");
    float* dx = f32(env, a.argv[2], &ndx, "dx");
    const int32_t* p = i32(env, a.argv[3], &np, "geometry");
    PoolGeom g = pool_geom(p, np);
    need(ndx == size_t(g.N * g.IH * g.IW * g.C) && ndy == size_t(g.N * g.OH * g.OW * g.C) && nm == ndy &&
             g.KH * g.KW < kNoCell,
         "maxpool grad: sizes");
    const bool tiled = g.SH == g.KH && g.SW == g.KW && g.PT == 0 && g.PL == 0 && g.OH * g.KH == g.IH &&
                       g.OW * g.KW == g.IW;
    if (tiled) {
#pragma omp parallel for collapse(2) schedule(static) if (big(ndx))
      for (int64_t n = 0; n < g.N; ++n)
        for (int64_t oh = 0; oh < g.OH; ++oh) max_pool_grad_mask_tiled_row(dy, m, dx, g, n, oh);
    } else {
#pragma omp parallel for schedule(static) if (big(ndx))
      for (int64_t n = 0; n < g.N; ++n) max_pool_grad_mask_image(dy, m, dx, g, n);
    }
    return undefined(env);
  });
}

TUDUI_CLONES void max_pool_grad_image(const float* x, const float* dy, float* dx, const PoolGeom& g, int64_t n,
                                      float* __restrict best, int32_t* __restrict arg) {
  const int64_t C = g.C;
  std::memset(dx + n * g.IH * g.IW * C, 0, sizeof(float) * g.IH * g.IW * C);
  const float* xn = x + n * g.IH * g.IW * C;
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      for (int64_t c = 0; c < C; ++c) {
        best[c] = -std::numeric_limits<float>::infinity();
        arg[c] = -1;
      }
      for_each_cell(x, g, n, oh, ow, [&](int32_t, const float* __restrict xi) {
        const int32_t pos = int32_t((xi - xn) / C);  // the cell's position in the image
        for (int64_t c = 0; c < C; ++c) {  // bit-mask select: see max_pool_row_mask
          const float v = xi[c], cur = best[c];
          const int32_t gt = -int32_t(v > cur);
          best[c] = v > cur ? v : cur;
          arg[c] = (arg[c] & ~gt) | (pos & gt);
        }
      });
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

}  // namespace

bool register_pooling(napi_env env, napi_value exports) {
  const Export fns[] = {{"maxPool", MaxPool}, {"maxPoolGrad", MaxPoolGrad},
                        {"maxPoolGradMask", MaxPoolGradMask}, {"avgPool", AvgPool}, {"avgPoolGrad", AvgPoolGrad}};
  return export_functions(env, exports, fns);
}

}  // namespace tudui
