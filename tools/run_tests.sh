#!/usr/bin/env bash
# `make test`: every stage, each one's wall time printed and kept in BUILD/test-timings.txt.
#
# The stages are CPU-bound but for the execution environment's image, whose build mostly waits on
# downloads (Debian packages for its base image, Python packages inside the build) and the disk. So
# the image is built beside lint, sanity, units and integration, and the ecosystem tests run on it
# once those are done. The Debian packages every stage needs are installed first, in one apt-get
# run (apt-get takes a lock, so two installs at once would fail).
#   tools/run_tests.sh BUILD_DIR
set -euo pipefail
build=$1
timings="${build}/test-timings.txt"
mkdir -p "${build}"
: > "${timings}"
make_() { make --no-print-directory "$@"; }
seconds_since() { echo $(( $(date +%s) - $1 )); }

stage() {
    local start
    start=$(date +%s)
    make_ "$@"
    echo "make $1: $(seconds_since "${start}") s" | tee -a "${timings}"
}

start=$(date +%s)
make_ collections
bash tools/system_packages.sh shellcheck podman runc mmdebstrap
echo "setup (toolchain, amazon.aws, Debian packages): $(seconds_since "${start}") s" | tee -a "${timings}"

ee_log="${build}/ee-build.log"
(
    start=$(date +%s)
    make_ ee-image > "${ee_log}" 2>&1
    echo "make ee-image (beside lint, sanity, units, integration): $(seconds_since "${start}") s" >> "${timings}"
) &
ee_job=$!
trap 'kill "${ee_job}" 2> /dev/null || true' EXIT

for name in lint sanity units integration; do
    stage "${name}"
done

start=$(date +%s)
if ! wait "${ee_job}"; then
    echo "building the execution environment image failed; the end of ${ee_log}:" >&2
    tail -n 60 "${ee_log}" >&2
    exit 1
fi
trap - EXIT
echo "waited for the execution environment image: $(seconds_since "${start}") s" | tee -a "${timings}"
stage ecosystem-tests
cat "${timings}"
