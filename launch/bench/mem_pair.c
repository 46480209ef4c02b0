// Whether this VM's two vCPUs share memory bandwidth: y = 0.5·x + y streamed over two private
// arrays of MB MiB each (L2, L3 or memory, by size) on vCPU 0 alone, then on vCPUs 0 and 1 at
// once, ROUNDS times. fma_pair.c is the same question for the FMA pipes. Context for the
// scaling figures in docs/BENCHMARKS.md: a step that streams through L3 or memory would scale
// no better than this column.
// Build and run: gcc -O2 -mavx2 -mfma -pthread launch/bench/mem_pair.c -o /tmp/mem_pair && /tmp/mem_pair MB [ROUNDS]
#include "pair.h"
#include <immintrin.h>

static long bytes;

// Passes over x and y, pinned to vCPU `arg`, until about 2 GiB of x has been read; returns GB/s of
// traffic (two loads and a store a value).
static void *run(void *arg) {
  pin((long)arg);
  long n = bytes / 4;
  float *x = aligned_alloc(64, bytes), *y = aligned_alloc(64, bytes);
  for (long i = 0; i < n; i++) { x[i] = (float)i; y[i] = 1; }
  long reps = (1L << 31) / bytes + 1;
  double t0 = now();
  for (long r = 0; r < reps; r++) {
    for (long i = 0; i < n; i += 8)
      _mm256_store_ps(y + i, _mm256_fmadd_ps(_mm256_load_ps(x + i), _mm256_set1_ps(0.5f), _mm256_load_ps(y + i)));
    __asm__ volatile("" ::: "memory");  // every pass is made
  }
  double *gbs = malloc(sizeof *gbs);
  *gbs = reps * 3.0 * bytes / (now() - t0) / 1e9;
  free(x); free(y);
  return gbs;
}

int main(int argc, char **argv) {
  bytes = (argc > 1 ? atol(argv[1]) : 4) << 20;
  int rounds = argc > 2 ? atoi(argv[2]) : 3;
  if (bytes <= 0 || rounds <= 0) { fprintf(stderr, "usage: mem_pair MB [ROUNDS], MB and ROUNDS at least 1\n"); return 2; }
  printf("round MiB_per_array alone_GBps pair_GBps_cpu0 pair_GBps_cpu1 pair_efficiency\n");
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%ld ", bytes >> 20);
  for (int r = 0; r < rounds; r++) pair_round(r, run, prefix);
  return 0;
}
