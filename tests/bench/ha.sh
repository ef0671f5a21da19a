#!/usr/bin/env bash
# ha.sh BUILD_DIR: the numbers of the README's "High availability" section.
#   - what pacer serve --ha keeps in ZooKeeper for N apps (bench-zksize over
#     gen.py's apps, a standalone ZooKeeper from Debian's zookeeper package);
#   - failover: the time from SIGKILL of the leader to another replica
#     leading, with a 2 s session timeout (tests/ha's failover test, run
#     HA_RUNS times; median).
# HA_N="1000 10000" and HA_RUNS=5 by default.
set -euo pipefail
BUILD=${1:?usage: $0 BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
N_LIST=${HA_N:-1000 10000}
RUNS=${HA_RUNS:-5}
tmp=$(mktemp -d)
zkpid=
cleanup() { [ -n "$zkpid" ] && kill -9 "$zkpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/zk"
cat >"$tmp/zoo.cfg" <<CFG
tickTime=200
dataDir=$tmp/zk
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
CFG
java -Xmx512m -cp /usr/share/java/zookeeper.jar org.apache.zookeeper.server.quorum.QuorumPeerMain \
	"$tmp/zoo.cfg" >"$tmp/zk.log" 2>&1 &
zkpid=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

for n in $N_LIST; do
	python3 "$HERE/gen.py" "$tmp/apps$n" "$n" --sim-load "$tmp/apps$n.json" >/dev/null
	echo "zookeeper: $("$BUILD/tests/bench/bench-zksize" "zk://127.0.0.1:$port/bench$n" "$tmp/apps$n.json")"
done

ms=()
for _ in $(seq 1 "$RUNS"); do
	out=$(PACER_BIN="$BUILD/pacer" PACER_SIM_BIN="$BUILD/marathon-sim" \
		"$BUILD/tests/ha_test_ha" --verbose --filter 'ha/election*' 2>&1 || true)
	m=$(sed -n 's/.*failover: \([0-9]*\) ms.*/\1/p' <<<"$out")
	[ -n "$m" ] && ms+=("$m")
done
if [ "${#ms[@]}" -gt 0 ]; then
	sorted=$(printf '%s\n' "${ms[@]}" | sort -n | tr '\n' ' ')
	median=$(printf '%s\n' "${ms[@]}" | sort -n | sed -n "$(((${#ms[@]} + 1) / 2))p")
	echo "failover (session timeout 2 s): median ${median} ms of ${#ms[@]} runs: $sorted"
fi
