#!/usr/bin/env bash
# The guest half of bench/backend: edu on vfio-pci, then the measurements.
. "$(dirname "${BASH_SOURCE[0]}")/../tests/vm/lib.sh"
build=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}
modprobe vfio-pci
modprobe vfio_iommu_type1
tb_bind 0000:00:03.0 vfio-pci
# Mapping 256 MiB page by page takes 65,536 mappings; type1 allows 65,535
# per container by default (dma_entry_limit, what dma_avail reports), so
# the per-page side could not even finish.  Raise it for this guest only.
limit=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
echo "dma_entry_limit: $(cat $limit) -> 131072 (for the per-page side)"
echo 131072 >$limit
# shellcheck disable=SC2086 # the options are words
"$build/bench/vh-bench-backend" ${VIRT_HOSTDEV_BENCH_ARGS:-} 0000:00:03.0
