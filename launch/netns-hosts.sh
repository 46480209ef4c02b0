#!/usr/bin/env bash
# Simulated hosts on one machine, for the multi-node test: network namespaces with their
# own addresses, joined by a bridge, and an rsh agent so mpirun starts its daemons in them.
#
# usage: launch/netns-hosts.sh up N      create hosts tandem-h1..N at 10.77.0.11.. (bridge 10.77.0.1)
#        launch/netns-hosts.sh down N    end their processes and remove them (also safe when they do not exist)
#        launch/netns-hosts.sh agent HOST CMD   (used by mpirun as plm_rsh_agent)
#
# Needs root and iproute2. Traffic stays on this machine: the bridge has no uplink.
set -euo pipefail
subnet=10.77.0
case ${1:-} in
up)
    n=${2:?usage: netns-hosts.sh up N}
    ip link add tandem-br0 type bridge
    ip addr add $subnet.1/24 dev tandem-br0
    ip link set tandem-br0 up
    for i in $(seq 1 "$n"); do
        ip netns add tandem-h$i
        ip link add tandem-v$i type veth peer name eth0 netns tandem-h$i
        ip link set tandem-v$i master tandem-br0 up
        ip netns exec tandem-h$i ip addr add $subnet.$((10 + i))/24 dev eth0
        ip netns exec tandem-h$i ip link set eth0 up
        ip netns exec tandem-h$i ip link set lo up
    done
    ;;
down)
    n=${2:?usage: netns-hosts.sh down N}
    for i in $(seq 1 "$n"); do
        # Processes left in a namespace would keep running after it is deleted.
        for pid in $(ip netns pids tandem-h$i 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del tandem-h$i 2>/dev/null || true
        ip link del tandem-v$i 2>/dev/null || true
    done
    ip link del tandem-br0 2>/dev/null || true
    ;;
agent)
    # mpirun calls: agent HOST COMMAND...; HOST is 10.77.0.(10+i) for namespace tandem-h<i>.
    host=$2; shift 2
    i=$(( ${host##*.} - 10 ))
    exec ip netns exec "tandem-h$i" /bin/sh -c "$*"
    ;;
*)
    sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
