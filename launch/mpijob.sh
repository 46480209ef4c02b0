# Sourced by the launch scripts: runs one mpirun job so that a preemption ends it with a whole
# checkpoint and exit status 75, whichever process the signal reaches.
#
# Open MPI 4.1's mpirun, sent SIGTERM or SIGINT (scancel, kill, Ctrl-C), sends every rank SIGCONT,
# waits odls_base_sigkill_timeout seconds (default 1), sends SIGTERM, waits as long again, sends
# SIGKILL, and exits 1 whatever the ranks returned. Tandem stops at its next step boundary on that
# SIGCONT, so the ranks have twice the timeout to write their checkpoint. SIGUSR1 and SIGUSR2 it
# forwards to the ranks instead, and then exits with their status (75). So:
# - the timeout is half of TANDEM_STOP_GRACE_SECONDS (default 60): the ranks' time from the signal
#   to their checkpoint, and how long mpirun then takes to end the job;
# - rank 0 writes 75 into TANDEM_EXIT_STATUS_FILE once that checkpoint is whole, and the job is
#   reported as 75 whatever mpirun says (1 after its own SIGTERM; 0 after a SIGUSR1, since with
#   the file set every rank exits 0, which spares the job mpirun's kill sequence and its waits);
# - mpirun runs in its own process group, so Ctrl-C reaches only this script, which sends mpirun
#   SIGUSR1 (as it does for SIGTERM and SIGHUP): a quick stop, without mpirun's waits.

TANDEM_STOP_GRACE_SECONDS=${TANDEM_STOP_GRACE_SECONDS:-60}

# Runs mpirun with ARGS, waits for it, and exits with the job's status.
tandem_mpijob() {
    if ! [[ $TANDEM_STOP_GRACE_SECONDS =~ ^[1-9][0-9]*$ ]] || ((TANDEM_STOP_GRACE_SECONDS < 2)); then
        echo "error: TANDEM_STOP_GRACE_SECONDS must be a whole number of seconds, 2 or more (e.g. 60)," \
            "got '$TANDEM_STOP_GRACE_SECONDS'" >&2
        exit 2
    fi
    local status_file status=0 timeout=$(((TANDEM_STOP_GRACE_SECONDS + 1) / 2))
    status_file=$(mktemp "${TMPDIR:-/tmp}/tandem-exit.XXXXXX")
    export TANDEM_EXIT_STATUS_FILE=$status_file
    # Not a process-group leader here, so setsid execs mpirun in this same process: $! is mpirun.
    setsid mpirun --mca odls_base_sigkill_timeout "$timeout" "$@" &
    tandem_mpirun_pid=$!
    trap 'kill -USR1 "$tandem_mpirun_pid" 2>/dev/null || true' INT TERM HUP
    # A trapped signal ends `wait` early; wait again until mpirun itself has exited.
    while :; do
        status=0
        wait "$tandem_mpirun_pid" || status=$?
        kill -0 "$tandem_mpirun_pid" 2>/dev/null || break
    done
    trap - INT TERM HUP
    if [[ $status -ne 75 && $(head -n 1 "$status_file" 2>/dev/null) == 75 ]]; then
        echo "tandem: every rank stopped at a step boundary and the checkpoint is whole" \
            "($(sed -n 2p "$status_file")): exit status 75 (mpirun's was $status)" >&2
        status=75
    fi
    rm -f "$status_file"
    exit "$status"
}
