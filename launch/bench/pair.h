// What fma_pair.c and mem_pair.c share: a clock, pinning, and one round of "alone, then both".
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

// Pins the calling thread to vCPU `cpu`.
static inline void pin(long cpu) {
  cpu_set_t set; CPU_ZERO(&set); CPU_SET((int)cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// A thread's result: `run` returns its rate as a malloc'd double.
static inline double join(pthread_t t) { double *g; pthread_join(t, (void **)&g); double v = *g; free(g); return v; }

// Runs `run(0)` alone, then `run(0)` and `run(1)` at once (the argument is the vCPU), and
// prints one line: round, each rate, and the pair's efficiency (their mean over the one alone).
static inline void pair_round(int round, void *(*run)(void *), const char *prefix) {
  pthread_t a, b;
  pthread_create(&a, NULL, run, (void *)0L);
  double alone = join(a);
  pthread_create(&a, NULL, run, (void *)0L);
  pthread_create(&b, NULL, run, (void *)1L);
  double p0 = join(a), p1 = join(b);
  printf("%d %s%.1f %.1f %.1f %.2f\n", round, prefix, alone, p0, p1, (p0 + p1) / (2 * alone));
}
