// Winograd F(2×2, 5×5) convolution (winograd.cc), for 5×5 stride-1 convolutions on AVX-512 or AVX2 cores:
// 36 multiplications per 2×2 output tile instead of 100, which oneDNN 2.6 offers only for 3×3 filters.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tudui {

// NHWC input [N, IH, IW, IC], HWIO 5×5 filter, NHWC output [N, OH, OW, OC], zero padding PT/PL before (and
// whatever the output size implies after).
struct WinoShape {
  int64_t N, IH, IW, IC, OC, OH, OW, PT, PL;
};

// Whether the Winograd path takes this convolution here: 5×5, stride 1, no dilation, IC and OC multiples of 16,
// an AVX-512 or AVX2 + FMA core, and TUDUI_NATIVE_WINOGRAD not 0.
bool winograd_usable(const WinoShape& s, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw);

// Whether this core and TUDUI_NATIVE_WINOGRAD allow the Winograd path at all.
bool winograd_available();
// The instruction set it runs with ("off", "avx2", "avx512"); `name` (nullable) chooses another one the core has
// (std::invalid_argument otherwise). The default: TUDUI_NATIVE_WINOGRAD, else the best the core has.
std::string winograd_isa(const char* name);
// Convolutions run by the Winograd path so far (the addon's winogradRuns, for the tests).
int64_t winograd_runs(bool count_one = false);

// The filter w (HWIO, [5][5][ic][oc]) transformed (G g Gᵀ per channel pair): [36][ic][oc]; or, `transposed`, that
// of the convolution giving the input gradient (the filter turned by 180° with in and out swapped): [36][oc][ic].
// Kept while the filter's version token (native.ts arrayToken; 0: unknown, never kept) is unchanged.
std::shared_ptr<const std::vector<float>> winograd_filter(const float* w, int32_t token, int64_t ic, int64_t oc,
                                                          bool transposed = false);

// The whole batch, contiguous runs of images per OpenMP thread (a run's blocks of tiles cross image borders);
// counted in winograd_runs.
void winograd_conv_batch(const float* x, const float* u, const float* bias, bool relu, float* y, const WinoShape& s);

// Output rows of images [n0, n1) (y points at the whole output), with bias (nullable) and relu; one thread.
void winograd_conv(const float* x, const float* u, const float* bias, bool relu, float* y, const WinoShape& s,
                   int64_t n0, int64_t n1);

}  // namespace tudui
