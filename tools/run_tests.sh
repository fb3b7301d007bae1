#!/usr/bin/env bash
# `make test`: every stage, each one's wall time printed and kept in BUILD/test-timings.txt.
#
# Three chains run side by side once the toolchain is there, since none of them keeps both cores of this machine busy
# alone: the integration targets (their two lanes wait on copies, polls and each other about a fifth of the time); the
# execution environment's image, which mostly waits on downloads (Debian packages for its base image, Python packages
# inside the build) and the disk, then the ecosystem tests on it; and lint, sanity and units, one after the other, in
# the foreground. Integration, the longest, starts first. The Debian packages every stage needs are installed before,
# in one apt-get run (apt-get takes a lock, so two installs at once would fail).
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

# beside LOG NAME...: run `make NAME` for each NAME in turn in the background, their output in LOG; the job's PID
# is in $!. The chain stops at the first that fails.
beside() {
    local log=$1
    shift
    (
        for name in "$@"; do
            start=$(date +%s)
            make_ "${name}" >> "${log}" 2>&1
            echo "make ${name} (beside the others): $(seconds_since "${start}") s" >> "${timings}"
        done
    ) &
}

# finish JOB WHAT LOG: wait for a job started by beside; print LOG when it failed.
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

: > "${build}/integration.log"
beside "${build}/integration.log" integration
integration_job=$!
: > "${build}/ee.log"
beside "${build}/ee.log" ee-image ecosystem-tests
ee_job=$!
# A stage that fails ends the run: the jobs beside it, and whatever they started, are stopped.
kill_tree() {
    local child
    for child in $(pgrep -P "$1" || true); do kill_tree "${child}"; done
    kill "$1" 2> /dev/null || true
}
trap 'kill_tree "${integration_job}"; kill_tree "${ee_job}"' EXIT

for name in lint sanity units; do
    stage "${name}"
done

finish "${integration_job}" integration "${build}/integration.log"
finish "${ee_job}" "ee-image and ecosystem-tests" "${build}/ee.log"
trap - EXIT
cat "${timings}"
