#!/usr/bin/env bash
# The guest half of `bench/nodedev testbed`: start libvirt, then time
# virt-hostdev's PCI inventory against libvirt's, asked the way Nova asks.
# Results go to $TESTBED_RESULTS/nodedev-testbed.json for the host to print.
#
#   bench/nodedev testbed          (boots the test bed with many devices)
. "$(dirname "${BASH_SOURCE[0]}")/../tests/vm/lib.sh"

[[ -n ${VIRT_HOSTDEV_BUILD_DIR:-} ]] ||
    tb_fail "VIRT_HOSTDEV_BUILD_DIR is not set; run this through bench/nodedev testbed"

ndevs=$(ls /sys/bus/pci/devices | wc -l)
ngroups=$(ls /sys/kernel/iommu_groups | wc -l)
echo "bench: $ndevs PCI devices, $ngroups IOMMU groups; starting libvirt"
start=$EPOCHREALTIME
tb_start_libvirt
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "bench: libvirtd answered after $secs s"

# The host's Debian python3, which has python3-libvirt (bench/nodedev
# installs it on the host before booting).
/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/nodedev" guest \
    --build-dir "$VIRT_HOSTDEV_BUILD_DIR" \
    --rounds "${VIRT_HOSTDEV_BENCH_ROUNDS:-5}" \
    --out "$TESTBED_RESULTS/nodedev-testbed.json"
