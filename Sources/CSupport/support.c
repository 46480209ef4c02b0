#include "support.h"
#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int tandem_keep_blocks_in_heap(int mmap_threshold, int trim_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    return 0;
#endif
}

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
