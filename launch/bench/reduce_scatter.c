// Deterministic mode's integer sums over ranks, four ways, in C: one int64 MPI_Allreduce
// (then a decode of every value), Open MPI's MPI_Reduce_scatter and MPI_Reduce_scatter_block,
// and the ring of MPI_Sendrecv that MPICommunicator.reduceScatter uses (then a decode of this
// rank's block and an in-place fp32 MPI_Allgatherv). 235 146 values: the MLP workload.
// Build and run: mpicc -O2 launch/bench/reduce_scatter.c -o /tmp/reduce_scatter \
//   && mpirun -np 2 --bind-to none /tmp/reduce_scatter
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { N = 235146, RUNS = 400, WARMUP = 20 };

static void decode(const int64_t *sums, float *out, int n) { for (int i = 0; i < n; i++) out[i] = (float)sums[i] * 0x1p-40f; }

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int64_t *sums = malloc(8 * (size_t)N), *incoming = malloc(8 * (size_t)N);
  float *grads = malloc(4 * (size_t)N);
  int counts[64], offsets[64], per = (N + size - 1) / size;
  for (int r = 0; r < size; r++) { offsets[r] = r * per < N ? r * per : N; counts[r] = (r + 1) * per < N ? per : N - offsets[r]; }
  double total[4] = {0};
  for (int k = 0; k < RUNS; k++) {
    for (int i = 0; i < N; i++) sums[i] = (int64_t)(i * 31 + rank) << 20;
    double t0 = MPI_Wtime();
    MPI_Allreduce(MPI_IN_PLACE, sums, N, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    decode(sums, grads, N);
    double t1 = MPI_Wtime();
    MPI_Reduce_scatter(sums, incoming, counts, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    double t2 = MPI_Wtime();
    MPI_Reduce_scatter_block(sums, incoming, per, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);  // over size x per values
    double t3 = MPI_Wtime();
    // The ring: in step s, send block rank-s-1, receive block rank-s-2 and add it.
    for (int s = 0; s < size - 1; s++) {
      int send = ((rank - s - 1) % size + size) % size, recv = ((rank - s - 2) % size + size) % size;
      MPI_Sendrecv(sums + offsets[send], counts[send], MPI_INT64_T, (rank + 1) % size, 7,
                   incoming, counts[recv], MPI_INT64_T, (rank + size - 1) % size, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      for (int i = 0; i < counts[recv]; i++) sums[offsets[recv] + i] += incoming[i];
    }
    decode(sums + offsets[rank], grads + offsets[rank], counts[rank]);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, grads, counts, offsets, MPI_FLOAT, MPI_COMM_WORLD);
    double t4 = MPI_Wtime();
    if (k >= WARMUP) { total[0] += t1 - t0; total[1] += t2 - t1; total[2] += t3 - t2; total[3] += t4 - t3; }
  }
  double n = RUNS - WARMUP;
  if (rank == 0)
    printf("int64 allreduce + decode %.3f ms, MPI_Reduce_scatter %.3f ms, MPI_Reduce_scatter_block %.3f ms, "
           "ring + decode + allgatherv %.3f ms\n", total[0] / n * 1e3, total[1] / n * 1e3, total[2] / n * 1e3, total[3] / n * 1e3);
  MPI_Finalize();
  return 0;
}
