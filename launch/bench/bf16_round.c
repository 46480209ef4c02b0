// What rounding 8 floats to 16 bits costs, per variant, on 4096 floats that stay in L1 (the
// best of 20000 passes, in ns per 8 floats): Tandem's bf16 roundings from support.h (NaN lanes
// set by an or; 8 and 16 at a time; rounded and widened back in place), the blend to a NaN's
// quiet bits they replaced, fp16's vcvtps2ph, and a plain copy.
// Build and run: gcc -O2 -mavx2 -mfma -mf16c -ISources/CSupport/include launch/bench/bf16_round.c -o /tmp/bf16_round && /tmp/bf16_round
#include "pair.h"
#include "support.h"
#include <stdint.h>

// The alternative to the or: NaN lanes blended to the NaN's quiet top half.
static inline __m128i blend_cvtps_bf16(__m256 v) {
  __m256i bits = _mm256_castps_si256(v), high = _mm256_srli_epi32(bits, 16);
  __m256i odd = _mm256_and_si256(high, _mm256_set1_epi32(1));
  __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), odd), 16);
  __m256i quiet = _mm256_or_si256(high, _mm256_set1_epi32(0x40));
  __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
  __m256i chosen = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(rounded), _mm256_castsi256_ps(quiet), nan));
  return _mm_packus_epi32(_mm256_castsi256_si128(chosen), _mm256_extracti128_si256(chosen, 1));
}

static inline __m256 blend_round_bf16(__m256 v) {
  __m256i bits = _mm256_castps_si256(v);
  __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), odd);
  __m256i quiet = _mm256_or_si256(bits, _mm256_set1_epi32(0x400000));
  __m256 chosen = _mm256_blendv_ps(_mm256_castsi256_ps(rounded), _mm256_castsi256_ps(quiet), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  return _mm256_and_ps(chosen, _mm256_castsi256_ps(_mm256_set1_epi32((int)0xFFFF0000)));
}

enum { N = 4096, PASSES = 20000 };
static float src[N] __attribute__((aligned(64))), wide[N] __attribute__((aligned(64)));
static uint16_t half[N] __attribute__((aligned(64)));

#define BENCH(name, step, body)                                          \
  {                                                                      \
    double best = 1e9;                                                   \
    for (int pass = 0; pass < PASSES; pass++) {                          \
      double t = now();                                                  \
      for (int i = 0; i < N; i += step) { body; }                        \
      __asm__ volatile("" ::: "memory");                                 \
      t = now() - t;                                                     \
      if (t < best) best = t;                                            \
    }                                                                    \
    printf("%-28s %.3f ns per 8\n", name, best * 1e9 / (N / 8));         \
  }

int main(void) {
  srand(1);
  for (int i = 0; i < N; i++) src[i] = (float)rand() / RAND_MAX - 0.5f;
  src[17] = __builtin_nanf("");
#define LOAD(i) _mm256_loadu_ps(src + (i))
  BENCH("bf16 narrow, blend (old)", 8, _mm_storeu_si128((__m128i *)(half + i), blend_cvtps_bf16(LOAD(i))))
  BENCH("bf16 narrow, or", 8, _mm_storeu_si128((__m128i *)(half + i), tandem_cvtps_bf16(LOAD(i))))
  BENCH("bf16 narrow, or, 16 at once", 16, _mm256_storeu_si256((__m256i *)(half + i), tandem_cvtps_bf16_x2(LOAD(i), LOAD(i + 8))))
  BENCH("fp16 narrow", 8, _mm_storeu_si128((__m128i *)(half + i), tandem_cvtps_ph(LOAD(i))))
  BENCH("bf16 round in place, blend", 8, _mm256_storeu_ps(wide + i, blend_round_bf16(LOAD(i))))
  BENCH("bf16 round in place, or", 8, _mm256_storeu_ps(wide + i, tandem_round_bf16(LOAD(i))))
  BENCH("fp16 round trip", 8, _mm256_storeu_ps(wide + i, _mm256_cvtph_ps(tandem_cvtps_ph(LOAD(i)))))
  BENCH("copy", 8, _mm256_storeu_ps(wide + i, LOAD(i)))
  return half[3] == 12345 && wide[3] == 7;  // keep the stores
}
