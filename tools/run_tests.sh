#!/usr/bin/env bash
# `make test`: every stage, each one's wall time printed and kept in BUILD/test-timings.txt.
#
# This machine has 2 cores, and no stage alone keeps both busy: an integration target waits about half its time
# (copies pending, polls), lint and sanity run one process, unit tests wait for copies too, and the execution
# environment's image build mostly waits on downloads and the disk. So three things run side by side:
#   - the integration targets, in two lanes (make integration, tools/run_integration.py), output kept in a log
#     that is printed when they are done;
#   - the image build (make ee-image), output kept in a log that is printed when it fails;
#   - lint, then sanity, then units, in front.
# The ecosystem tests run last, on the image. The Debian packages every stage needs are installed first, in one
# apt-get run (apt-get takes a lock, so two installs at once would fail).
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

# finish JOB NAME LOG [all]: wait for a job started by beside; print LOG whole (with "all") or only when it failed.
finish() {
    local start status=0
    start=$(date +%s)
    wait "$1" || status=$?
    if [ "${status}" -ne 0 ] || [ "${4:-}" = all ]; then
        echo "===== make $2 ($3) ====="
        cat "$3"
    fi
    if [ "${status}" -ne 0 ]; then
        echo "make $2 failed (exit ${status}); its output is above" >&2
        exit 1
    fi
    echo "waited for make $2: $(seconds_since "${start}") s" | tee -a "${timings}"
}

start=$(date +%s)
make_ collections
bash tools/system_packages.sh shellcheck podman runc mmdebstrap
echo "setup (toolchain, amazon.aws, Debian packages): $(seconds_since "${start}") s" | tee -a "${timings}"

beside integration "${build}/integration.log"
integration_job=$!
beside ee-image "${build}/ee-build.log"
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

finish "${integration_job}" integration "${build}/integration.log" all
finish "${ee_job}" ee-image "${build}/ee-build.log"
trap - EXIT
stage ecosystem-tests
cat "${timings}"
