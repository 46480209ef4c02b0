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

static volatile sig_atomic_t tandem_stop = 0;

static void tandem_record_stop(int sig) { tandem_stop = sig; }

void tandem_install_stop_handlers(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = tandem_record_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
}

int tandem_stop_signal(void) { return tandem_stop; }

void tandem_clear_stop_signal(void) { tandem_stop = 0; }
