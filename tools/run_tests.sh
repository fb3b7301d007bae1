#!/usr/bin/env bash
# `make test`: every stage, each one's wall and CPU time printed and kept in BUILD/test-timings.txt.
#
# Three chains run side by side, since none of them keeps both cores of this machine busy alone: the integration
# targets (their two lanes wait on copies, polls and each other about a fifth of the time), which take the longest and
# start as soon as the toolchain is there; the execution environment's image, which mostly waits on downloads (Debian
# packages for its base image, Python packages inside the build) and the disk, then the ecosystem tests on it; and
# lint, sanity and units, one after the other, in the foreground. The last two chains, which have time to spare, run
# at nice 10 (a small gain: ansible-core starts each task's worker in a session of its own, and the kernel shares the
# CPU between sessions before niceness counts; 823 s for integration against 849 s). The Debian
# packages they need are installed before they start, in one apt-get run (apt-get takes a lock, so two installs at
# once would fail). Each stage's CPU time is that of its processes on this host (a container `podman run` starts is
# not among them).
#   tools/run_tests.sh BUILD_DIR
set -euo pipefail
build=$1
timings="${build}/test-timings.txt"
mkdir -p "${build}"
: > "${timings}"
# The niceness the stages run at: integration, the longest, at the default; the others, which have time to spare,
# below it (see the top).
niceness=0
make_() { nice -n "${niceness}" make --no-print-directory "$@"; }
seconds_since() { echo $(($(date +%s) - $1)); }
# children_cpu: set cpu to the CPU seconds (user and system) of this shell's children that have ended so far, read
# from the `times` builtin (which must run in this shell: a command substitution's subshell would count its own).
children_cpu() {
    local file="${build}/.times-${BASHPID}"
    times > "${file}"
    cpu=$(tail -1 "${file}" | awk '{ gsub(/[ms]/, " "); printf "%d", $1 * 60 + $2 + $3 * 60 + $4 }')
    rm -f "${file}"
}

# timed WHERE NAME: `make NAME`, its wall and CPU time added to the timings. In a subshell of its own, so that the
# CPU time is that stage's alone (the shell that runs the stages also reaps the chains beside them as they end).
timed() (
    start=$(date +%s)
    make_ "$2"
    children_cpu
    echo "make $2$1: $(seconds_since "${start}") s, ${cpu} s of CPU" | tee -a "${timings}"
)

stage() { timed "" "$1"; }

# beside LOG NAME...: run `make NAME` for each NAME in turn in the background, their output in LOG; the job's PID
# is in $!. The chain stops at the first that fails.
beside() {
    local log=$1
    shift
    (
        for name in "$@"; do
            timed " (beside the others)" "${name}" >> "${log}" 2>&1
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

# A stage that fails ends the run: the jobs beside it, and whatever they started, are stopped.
kill_tree() {
    local child
    for child in $(pgrep -P "$1" || true); do kill_tree "${child}"; done
    kill "$1" 2> /dev/null || true
}
jobs_beside=()
stop_beside() {
    local job
    for job in "${jobs_beside[@]}"; do kill_tree "${job}"; done
}
trap stop_beside EXIT

began=$(date +%s)
start=${began}
make_ collections
children_cpu
echo "setup (toolchain, amazon.aws): $(seconds_since "${start}") s, ${cpu} s of CPU" | tee -a "${timings}"
# Integration needs nothing more, and takes the longest.
: > "${build}/integration.log"
beside "${build}/integration.log" integration
integration_job=$!
jobs_beside+=("${integration_job}")
niceness=10

start=$(date +%s)
bash tools/system_packages.sh shellcheck podman runc mmdebstrap
echo "setup (Debian packages): $(seconds_since "${start}") s" | tee -a "${timings}"
: > "${build}/ee.log"
beside "${build}/ee.log" ee-image ecosystem-tests
ee_job=$!
jobs_beside+=("${ee_job}")

for name in lint sanity units; do
    stage "${name}"
done

finish "${integration_job}" integration "${build}/integration.log"
finish "${ee_job}" "ee-image and ecosystem-tests" "${build}/ee.log"
trap - EXIT
children_cpu
echo "make test: $(seconds_since "${began}") s, ${cpu} s of CPU" >> "${timings}"
cat "${timings}"
