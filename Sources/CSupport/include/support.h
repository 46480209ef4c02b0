#ifndef TANDEM_SUPPORT_H
#define TANDEM_SUPPORT_H
// The few C facilities the tensor core needs that Swift cannot reach: cache prefetch hints
// (no Swift intrinsic), F16C's rounding conversion (an immediate-operand macro, which Swift
// cannot import) and glibc's allocator settings (malloc.h is not in Swift's Glibc module).

#if defined(__x86_64__) && defined(__F16C__)
#include <immintrin.h>
/// Rounds 8 floats to float16, to nearest even (one vcvtps2ph). Swift's
/// SIMD8<Float16>(SIMD8<Float>) compiles to the same instruction but behind a call per
/// vector, which cost the fp16 GPT step 5 ms.
static inline __m128i tandem_cvtps_ph(__m256 v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT); }
#endif

/// Prefetch a line that will be read soon into all cache levels.
static inline void tandem_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }
/// Prefetch a line that will be written soon.
static inline void tandem_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Whether the heap settings made at load time took: freed blocks up to 32 MiB stay in the
/// heap instead of being unmapped, the heap is never trimmed below 1 GiB, and every thread
/// shares that one heap (no per-thread arenas). 1 when glibc accepted all three, else 0.
int tandem_heap_configured(void);

/// Installs handlers for SIGTERM, SIGINT and SIGUSR1 that only record the signal, so training
/// can stop at the next step boundary (a signal handler may do nothing more).
void tandem_install_stop_handlers(void);
/// The stop signal received so far, or 0.
int tandem_stop_signal(void);
/// Forgets a received stop signal (tests run several trainers in one process).
void tandem_clear_stop_signal(void);

#endif
