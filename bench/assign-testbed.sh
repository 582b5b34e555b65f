#!/usr/bin/env bash
# The guest half of `bench/assign`: start udevd and libvirtd, then time
# detach+hold of the devices by virt-hostdev, by raw sysfs writes and by
# libvirt (or, with VIRT_HOSTDEV_BENCH_PART=guest-cpu, where the guest's
# CPU goes meanwhile).  Results go to $TESTBED_RESULTS/assign-testbed.json
# (assign-cpu.json).
#
#   bench/assign          (boots the test bed with the devices it needs)
. "$(dirname "${BASH_SOURCE[0]}")/../tests/vm/lib.sh"

[[ -n ${VIRT_HOSTDEV_BUILD_DIR:-} ]] ||
    tb_fail "VIRT_HOSTDEV_BUILD_DIR is not set; run this through bench/assign"

echo "bench: $(ls /sys/bus/pci/devices | wc -l) PCI devices; starting libvirt"
tb_start_libvirt
# The host's Debian python3, which has python3-libvirt.
# guest: the timed comparison; guest-cpu: where the guest's CPU goes.
part=${VIRT_HOSTDEV_BENCH_PART:-guest}
out=assign-testbed.json
[[ $part == guest-* ]] && out=assign-${part#guest-}.json
/usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/assign" "$part" \
    --build-dir "$VIRT_HOSTDEV_BUILD_DIR" \
    --rounds "${VIRT_HOSTDEV_BENCH_ROUNDS:-5}" \
    --out "$TESTBED_RESULTS/$out"
