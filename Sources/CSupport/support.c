#include "support.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

static int heap_configured = 0;

/// Runs when the program loads, before MPI_Init or any thread: glibc fixes the number of
/// malloc arenas the first time a second thread allocates, so a later M_ARENA_MAX is ignored.
__attribute__((constructor)) static void tandem_configure_heap(void) {
#if defined(__GLIBC__)
    heap_configured = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1  // glibc's maximum
        && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1
        && mallopt(M_ARENA_MAX, 1) == 1;
#endif
}

int tandem_heap_configured(void) { return heap_configured; }

#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t tandem_stop = 0, tandem_launcher_ending_flag = 0;
/// Monotonic milliseconds of the heartbeat thread's last tick; 0 before it starts.
static volatile long long tandem_heartbeat_ms = 0;

static long long tandem_monotonic_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/// Ticks every 50 ms. A stopped process does not tick, so a SIGCONT that finds the last tick
/// more than a second old ends a stop (Ctrl-Z then fg, kill -STOP then -CONT), not a job.
static void *tandem_heartbeat(void *unused) {
    (void)unused;
    for (;;) {
        tandem_heartbeat_ms = tandem_monotonic_ms();
        usleep(50000);
    }
    return NULL;
}

static void tandem_record_stop(int sig) {
    // A later signal never replaces the first: the first says why the run stopped.
    if (tandem_stop == 0) tandem_stop = sig;
}

static void tandem_record_continue(int sig) {
    long long beat = tandem_heartbeat_ms;
    if (beat != 0 && tandem_monotonic_ms() - beat < 1000) {
        tandem_launcher_ending_flag = 1;
        tandem_record_stop(sig);
    }
}

void tandem_install_stop_handlers(void) {
    static int installed = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = tandem_record_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
    action.sa_handler = tandem_record_continue;
    sigaction(SIGCONT, &action, NULL);
    if (!installed) {
        installed = 1;
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        tandem_heartbeat_ms = tandem_monotonic_ms();
        if (pthread_create(&thread, &attr, tandem_heartbeat, NULL) != 0) tandem_heartbeat_ms = 0;
        pthread_attr_destroy(&attr);
    }
}

int tandem_stop_signal(void) { return tandem_stop; }

int tandem_launcher_ending(void) { return tandem_launcher_ending_flag; }

void tandem_clear_stop_signal(void) { tandem_stop = 0; tandem_launcher_ending_flag = 0; }
