#ifndef TANDEM_SUPPORT_H
#define TANDEM_SUPPORT_H
// The few C facilities the tensor core needs that Swift cannot reach: cache prefetch hints
// (no Swift intrinsic), the 8-lane roundings to float16 and bfloat16 (they need intrinsics
// with immediate operands, macros that Swift cannot import; so do max pooling's gather and
// compare), glibc's allocator settings (malloc.h is not in Swift's Glibc module) and atomics at
// an address in shared memory.

#include <stdint.h>

#if defined(__x86_64__) && defined(__F16C__)
#include <immintrin.h>
/// Rounds 8 floats to float16, to nearest even (one vcvtps2ph). Swift's
/// SIMD8<Float16>(SIMD8<Float>) compiles to the same instruction but behind a call per
/// vector, which cost the fp16 GPT step 5 ms.
static inline __m128i tandem_cvtps_ph(__m256 v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT); }

/// Rounds 8 floats to bfloat16 to nearest even in their 32-bit lanes (the low 16 bits left
/// as they come), with every NaN lane set to all ones: the top half of a NaN, or of a NaN
/// plus the rounding increment, could read as an infinity or a zero. An unordered compare
/// and an or pick the NaNs, which Swift can only reach through integer arithmetic (its SIMD
/// comparisons compile to scalar code). A blend to the NaN's own quiet bits took one more
/// instruction and a constant: rounding 8 floats to 16 bits took 9-11% longer that way
/// (launch/bench/bf16_round.c: 0.957 against 0.859-0.879 ns; docs/BENCHMARKS.md, "bf16 rounding
/// and 16-bit casts").
static inline __m256i tandem_round_bf16_lanes(__m256 v) {
    __m256i bits = _mm256_castps_si256(v);
    __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(bits, _mm256_set1_epi32(0x7FFF)), odd);
    return _mm256_or_si256(rounded, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
}

/// Rounds 8 floats to bfloat16 (the top half of each, to nearest even; a NaN becomes the NaN
/// 0xFFFF).
static inline __m128i tandem_cvtps_bf16(__m256 v) {
    __m256i high = _mm256_srli_epi32(tandem_round_bf16_lanes(v), 16);
    return _mm_packus_epi32(_mm256_castsi256_si128(high), _mm256_extracti128_si256(high, 1));
}

/// Rounds 16 floats to bfloat16, `a` then `b`: the two halves packed by one instruction and
/// put in order by one more (two calls of tandem_cvtps_bf16 take two of each).
static inline __m256i tandem_cvtps_bf16_x2(__m256 a, __m256 b) {
    __m256i packed = _mm256_packus_epi32(_mm256_srli_epi32(tandem_round_bf16_lanes(a), 16),
                                         _mm256_srli_epi32(tandem_round_bf16_lanes(b), 16));
    return _mm256_permute4x64_epi64(packed, 0xD8);
}

/// Rounds 8 floats to bfloat16 and widens them back, in place in 32-bit lanes: the rounding
/// of tandem_cvtps_bf16 with the low 16 bits cleared, which spares the pack to 16 bits and
/// the unpack after it (a GEMM packing a weight it reads rounded, see GEMMOperand).
static inline __m256 tandem_round_bf16(__m256 v) {
    return _mm256_castsi256_ps(_mm256_and_si256(tandem_round_bf16_lanes(v), _mm256_set1_epi32((int)0xFFFF0000)));
}

/// Loads the 8 floats at base[offsets[i]] (one vgatherdps; its scale is an immediate).
static inline __m256 tandem_gather8(const float *base, __m256i offsets) { return _mm256_i32gather_ps(base, offsets, 4); }

/// The lanes where v should replace a running max: v > best or v is NaN (so NaN
/// propagates, as in PyTorch), as an all-ones mask for blends. Both compares' predicates
/// are immediates.
static inline __m256 tandem_max_takes(__m256 v, __m256 best) {
    return _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
#endif

/// The spin-wait hint (x86 PAUSE, arm64 YIELD) for a loop that waits on another thread: it
/// tells the core, and a hypervisor that watches for it (pause-loop exiting), that this vCPU
/// is only waiting, so the one it waits for can run.
static inline void tandem_spin_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Publishes `value` at `p` after every store before it (a counter another process spins on,
/// in memory both map: Swift's atomics cannot live at a given address).
static inline void tandem_store_release_u64(uint64_t *p, uint64_t value) { __atomic_store_n(p, value, __ATOMIC_RELEASE); }
/// Reads `p`; loads after it see every store made before the matching release.
static inline uint64_t tandem_load_acquire_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

/// Prefetch a line that will be read soon into all cache levels.
static inline void tandem_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }
/// Prefetch a line that will be written soon.
static inline void tandem_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Whether the heap settings made at load time took: freed blocks up to 32 MiB stay in the
/// heap instead of being unmapped, the heap is never trimmed below 1 GiB, and every thread
/// shares that one heap (no per-thread arenas). 1 when glibc accepted all three, else 0.
int tandem_heap_configured(void);

/// Installs handlers for SIGTERM, SIGINT and SIGUSR1 that only record the signal, so training
/// can stop at the next step boundary (a signal handler may do nothing more). SIGCONT counts
/// too unless it ends a stop of this process: Open MPI's mpirun, sent SIGTERM or SIGINT, sends
/// every rank SIGCONT at once and SIGTERM only odls_base_sigkill_timeout seconds later.
void tandem_install_stop_handlers(void);
/// The first stop signal received so far, or 0.
int tandem_stop_signal(void);
/// 1 when a SIGCONT said mpirun is ending the job: its runtime no longer answers, so MPI_Finalize
/// would wait for the SIGKILL that follows.
int tandem_launcher_ending(void);
/// Forgets a received stop signal (tests run several trainers in one process).
void tandem_clear_stop_signal(void);

#endif
