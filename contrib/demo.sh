#!/usr/bin/env bash
# make demo: start marathon-sim, sync testdata/apps into it, change one app,
# show the diff and the deployment, then stop. Everything stays in a temp dir.
set -euo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PACER="$ROOT/$BUILD/pacer"
SIM="$ROOT/$BUILD/marathon-sim"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pacer-demo-XXXXXX")
SIM_PID=

cleanup() {
	if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "starting marathon-sim (deployments take about a second)"
"$SIM" --listen 127.0.0.1:0 --task-launch-ms 300 --health-ms 600 > "$WORK/sim.out" 2> "$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 50); do
	URL=$(head -n1 "$WORK/sim.out" 2>/dev/null || true)
	[ -n "$URL" ] && break
	sleep 0.1
done
[ -n "$URL" ] || { echo "marathon-sim did not start:"; cat "$WORK/sim.log"; exit 1; }
echo "marathon-sim is listening on $URL"
export PACER_MARATHON_URL=$URL PACER_STATE_DIR=$WORK/state

cp -r "$ROOT/testdata/apps" "$WORK/apps"

step "validate the desired state offline"
run "$PACER" validate "$WORK/apps"

step "what would change (everything is new)"
run "$PACER" diff --source "$WORK/apps" || true

step "sync: create every app and wait until each is healthy"
run "$PACER" sync --source "$WORK/apps"

step "sync again: nothing to do"
run "$PACER" sync --source "$WORK/apps"

step "a developer bumps the frontend image and the api's log level, and releases a new storefront"
sed -i 's/nginx:1.25.3/nginx:1.25.4/' "$WORK/apps/shop/group.json"
sed -i 's/"LOG_LEVEL": "info"/"LOG_LEVEL": "debug"/' "$WORK/apps/shop/group.json"
sed -i 's/storefront:2.3.0/storefront:2.4.0/' "$WORK/apps/shop/storefront.json"
run "$PACER" diff --source "$WORK/apps" || true

step "sync: back up the live definitions, deploy with force, wait; the storefront (blue/green) goes live as its other colour in steps, without downtime"
run "$PACER" sync --source "$WORK/apps"

step "the backups pacer wrote before touching the apps"
run "$PACER" backups

step "the apps as Marathon reports them"
curl -s "$URL/v2/apps" | python3 -c '
import json, sys
for a in sorted(json.load(sys.stdin)["apps"], key=lambda a: a["id"]):
    image = (a.get("container") or {}).get("docker", {}).get("image", "-")
    print("  %-32s instances=%d healthy=%d running=%d image=%s" % (a["id"], a["instances"], a["tasksHealthy"], a["tasksRunning"], image))
'
echo
echo "demo done: pacer synced testdata/apps into marathon-sim, then deployed one change."
