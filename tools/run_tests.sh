#!/usr/bin/env bash
# `make test`: every stage, each one's wall time printed and kept in BUILD/test-timings.txt.
#
# The stages are CPU-bound, integration most of all (its two lanes keep both cores busy), but for the execution
# environment's image, whose build mostly waits on downloads (Debian packages for its base image, Python packages
# inside the build) and the disk. So the image is built beside lint, sanity, units and integration, and the ecosystem
# tests run on it last. Running the integration lanes beside lint, sanity and units too was measured slower (22 min
# against 19 cold): with both cores taken, what runs beside only waits its turn, and the switching costs more. The
# Debian packages every stage needs are installed first, in one apt-get run (apt-get takes a lock, so two installs
# at once would fail).
#   tools/run_tests.sh BUILD_DIR
set -euo pipefail
build=$1
timings="${build}/test-timings.txt"
mkdir -p "${build}"
: > "${timings}"
make_() { make --no-print-directory "$@"; }
seconds_since() { echo $(($(date +%s) - $1)); }

stage() {
    local start
    start=$(date +%s)
    make_ "$@"
    echo "make $1: $(seconds_since "${start}") s" | tee -a "${timings}"
}

# beside NAME LOG: run `make NAME` in the background, its output in LOG; the job's PID is in $!.
beside() {
    (
        start=$(date +%s)
        make_ "$1" > "$2" 2>&1
        echo "make $1 (beside the others): $(seconds_since "${start}") s" >> "${timings}"
    ) &
}

# finish JOB NAME LOG: wait for a job started by beside; print LOG when it failed.
finish() {
    local start status=0
    start=$(date +%s)
    wait "$1" || status=$?
    if [ "${status}" -ne 0 ]; then
        echo "===== make $2 ($3) ====="
        cat "$3"
        echo "make $2 failed (exit ${status}); its output is above" >&2
        exit 1
    fi
    echo "waited for make $2: $(seconds_since "${start}") s" | tee -a "${timings}"
}

start=$(date +%s)
make_ collections
bash tools/system_packages.sh shellcheck podman runc mmdebstrap
echo "setup (toolchain, amazon.aws, Debian packages): $(seconds_since "${start}") s" | tee -a "${timings}"

beside ee-image "${build}/ee-build.log"
ee_job=$!
# A stage that fails ends the run: the job beside it, and whatever it started, is stopped.
kill_tree() {
    local child
    for child in $(pgrep -P "$1" || true); do kill_tree "${child}"; done
    kill "$1" 2> /dev/null || true
}
trap 'kill_tree "${ee_job}"' EXIT

for name in lint sanity units integration; do
    stage "${name}"
done

finish "${ee_job}" ee-image "${build}/ee-build.log"
trap - EXIT
stage ecosystem-tests
cat "${timings}"
