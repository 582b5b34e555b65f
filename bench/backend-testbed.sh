#!/usr/bin/env bash
# The guest half of bench/backend: edu on vfio-pci, then the measurements.
. "$(dirname "${BASH_SOURCE[0]}")/../tests/vm/lib.sh"
build=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}
modprobe vfio-pci
tb_bind 0000:00:03.0 vfio-pci
# shellcheck disable=SC2086 # the options are words
"$build/bench/vh-bench-backend" ${VIRT_HOSTDEV_BENCH_ARGS:-} 0000:00:03.0
