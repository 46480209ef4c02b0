// The 2-rank shared-memory allreduce that issue 3 considered, against MPI_Allreduce, in C.
// Build and run: mpicc -O3 -march=native launch/bench/shm_allreduce.c -o /tmp/shm_allreduce \
//   && mpirun -np 2 /tmp/shm_allreduce   (0.94 MB, the MLP workload's gradients)
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
int main(int argc,char**argv){
  MPI_Init(&argc,&argv);
  int r,s; MPI_Comm_rank(MPI_COMM_WORLD,&r); MPI_Comm_size(MPI_COMM_WORLD,&s);
  int n = 983040/4;
  float *mine; MPI_Win win;
  MPI_Win_allocate_shared(n*4,4,MPI_INFO_NULL,MPI_COMM_WORLD,&mine,&win);
  float *peer[8]; for(int i=0;i<s;i++){MPI_Aint sz; int du; MPI_Win_shared_query(win,i,&sz,&du,&peer[i]);}
  MPI_Win_lock_all(MPI_MODE_NOCHECK,win);
  float *priv = malloc(n*4);
  double best=1e9, tot=0; int runs=500;
  for(int it=0;it<runs;it++){
    for(int i=0;i<n;i++) mine[i]=r+1;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0=MPI_Wtime();
    MPI_Win_sync(win); MPI_Barrier(MPI_COMM_WORLD); MPI_Win_sync(win);
    int lo = (long)n*r/s, hi=(long)n*(r+1)/s;
    for(int i=lo;i<hi;i++){ float acc=0; for(int k=0;k<s;k++) acc+=peer[k][i]; for(int k=0;k<s;k++) peer[k][i]=acc; }
    MPI_Win_sync(win); MPI_Barrier(MPI_COMM_WORLD); MPI_Win_sync(win);
    double t=MPI_Wtime()-t0; tot+=t; if(t<best)best=t;
    if(mine[0]!=s*(s+1)/2 || mine[n-1]!=s*(s+1)/2) printf("bad\n");
  }
  double raw=0;
  for(int it=0;it<runs;it++){ for(int i=0;i<n;i++) priv[i]=r+1; MPI_Barrier(MPI_COMM_WORLD); double t0=MPI_Wtime(); MPI_Allreduce(MPI_IN_PLACE,priv,n,MPI_FLOAT,MPI_SUM,MPI_COMM_WORLD); raw+=MPI_Wtime()-t0;}
  if(r==0) printf("shm mean %.3f ms best %.3f; raw mean %.3f ms\n", tot/runs*1e3, best*1e3, raw/runs*1e3);
  MPI_Win_unlock_all(win); MPI_Win_free(&win); MPI_Finalize();
}
