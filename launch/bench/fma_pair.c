// Whether this VM's two vCPUs are two whole cores right now: a register-only FMA loop (no
// memory) on vCPU 0 alone, then on vCPUs 0 and 1 at once, ROUNDS times. On whole cores the
// pair runs each loop as fast as one alone; on one physical core's two hardware threads (or
// with another guest on a core's other thread) each gets about half. Context for the scaling
// figures in docs/BENCHMARKS.md, which no code of ours can move.
// Build and run: gcc -O2 -mavx2 -mfma -pthread launch/bench/fma_pair.c -o /tmp/fma_pair && /tmp/fma_pair [ROUNDS]
#include "pair.h"
#include <immintrin.h>

enum { ITERATIONS = 100000000 };  // 16 GFLOP: about 0.2 s at full speed

// Ten independent 8-wide chains (two FMA pipes x latency 4, with room) pinned to vCPU `arg`; returns GFLOP/s.
static void *run(void *arg) {
  pin((long)arg);
  __m256 a0 = _mm256_set1_ps(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0;
  const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
  double t0 = now();
  for (long n = 0; n < ITERATIONS; n++) {
#define F(x) x = _mm256_fmadd_ps(x, m, c);
    F(a0) F(a1) F(a2) F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9)
    // Keeps the chains in registers and the loop as written.
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5), "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9));
  }
  double *gflops = malloc(sizeof *gflops);
  *gflops = ITERATIONS * 160.0 / (now() - t0) / 1e9;
  return gflops;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  printf("round alone_gflops pair_gflops_cpu0 pair_gflops_cpu1 pair_efficiency\n");
  for (int r = 0; r < rounds; r++) pair_round(r, run, "");
  return 0;
}
