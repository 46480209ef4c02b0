#ifndef TANDEM_PREFETCH_H
#define TANDEM_PREFETCH_H
// Cache prefetch hints for the GEMM micro-kernel. Swift has no prefetch intrinsic; these
// static inline wrappers compile to single prefetcht0/prefetchw instructions in the caller.

/// Prefetch a line that will be read soon into all cache levels.
static inline void tandem_prefetch_read(const void *p) { __builtin_prefetch(p, 0, 3); }
/// Prefetch a line that will be written soon.
static inline void tandem_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
