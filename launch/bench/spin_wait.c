// What one x86 PAUSE and one sched_yield cost on this machine, for SpinWait.pausing in
// Sources/TensorCore/ThreadPool.swift (2,000 pauses before the first yield).
// Build and run: gcc -O2 launch/bench/spin_wait.c -o /tmp/spin_wait && /tmp/spin_wait
#include <sched.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
  enum { PAUSES = 1000000, YIELDS = 100000 };
  double t0 = now();
  for (int i = 0; i < PAUSES; i++) __builtin_ia32_pause();
  double t1 = now();
  for (int i = 0; i < YIELDS; i++) sched_yield();
  double t2 = now();
  printf("pause %.1f ns, sched_yield %.1f ns\n", (t1 - t0) / PAUSES * 1e9, (t2 - t1) / YIELDS * 1e9);
  return 0;
}
