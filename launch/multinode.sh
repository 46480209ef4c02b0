#!/usr/bin/env bash
# One job over several nodes, started from one of them.
#
# usage: launch/multinode.sh HOSTFILE [MPIRUN_OPTIONS... --] PROGRAM [ARGS...]   (see launch/hostfile.example)
#    or: HOSTS=node1:2,node2:2 launch/multinode.sh - PROGRAM [ARGS...]
#
# Options before a `--` go to mpirun as they are (e.g. `--mca plm_rsh_agent rsh`).
# Every node needs the same build at the same path and passwordless ssh from this one.
# TANDEM_IFACE selects the network for MPI traffic (an interface like eth1 or a CIDR like
# 10.0.0.0/24; default: let Open MPI choose). Settings, as Horovod recommends:
#   -bind-to none -map-by slot   ranks placed in slot order, threads free to use their cores
#   --mca btl self,vader,tcp     shared memory within a node, TCP between nodes
#   --mca rtc_hwloc_vmhole none  the remote daemons do not map the hwloc topology into a
#                                guessed address hole (Open MPI 4.1's orted can crash there)
#   --mca oob_tcp_keepalive_*    mpirun and its daemons notice a host cut off within ~11 s (5 s
#                                idle + 3 probes 2 s apart), end the job and exit (default 300 s + 9 x 20 s)
# SIGTERM or SIGINT to this script or to mpirun stops `tandem train` at a step boundary with a
# checkpoint and exit status 75, within TANDEM_STOP_GRACE_SECONDS (default 60); status 75 after
# a SIGTERM to mpirun itself needs rank 0 on this node (the first host) or a shared TMPDIR.
set -euo pipefail
if [[ $# -lt 2 ]]; then sed -n '2,19p' "$0" >&2; exit 2; fi
cd "$(dirname "$0")/.."
source launch/setup.sh
source launch/mpijob.sh
hostfile=$1; shift
hosts=()
if [[ $hostfile == - ]]; then
    [[ -n ${HOSTS:-} ]] || { echo "error: with '-' set HOSTS, e.g. HOSTS=node1:2,node2:2" >&2; exit 2; }
    hosts=(-H "$HOSTS")
else
    [[ -r $hostfile ]] || { echo "error: cannot read hostfile $hostfile (see launch/hostfile.example)" >&2; exit 2; }
    hosts=(--hostfile "$hostfile")
fi
extra=()
for arg in "$@"; do
    if [[ $arg == -- ]]; then
        while [[ $1 != -- ]]; do extra+=("$1"); shift; done
        shift
        break
    fi
done
[[ $# -ge 1 ]] || { echo "error: no program to run" >&2; exit 2; }
net=()
if [[ -n ${TANDEM_IFACE:-} ]]; then
    net=(--mca btl_tcp_if_include "$TANDEM_IFACE" --mca oob_tcp_if_include "$TANDEM_IFACE")
fi
# A link that fails mid-run leaves TCP connections silent, not closed: keepalive probes find out.
alive=(--mca oob_tcp_keepalive_time 5 --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3)
tandem_mpijob "${hosts[@]}" -bind-to none -map-by slot --mca btl self,vader,tcp --mca rtc_hwloc_vmhole none \
    "${net[@]}" "${alive[@]}" -x TANDEM_NUM_THREADS -x TANDEM_EXIT_STATUS_FILE -x PATH -x LD_LIBRARY_PATH "${extra[@]}" "$@"
