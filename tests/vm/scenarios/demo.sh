#!/usr/bin/env bash
# The main job, shown on a kernel with a real IOMMU: what virt-hostdev sees
# of the guest's IOMMU groups, and what happens to group viability when a
# device is detached the way libvirt does it (that device alone).
#
#   tools/demo        (or: tests/vm/testbed tests/vm/scenarios/demo.sh)
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
tb_assert_file "$vh" "the built virt-hostdev"

echo "== virt-hostdev iommu-groups"
"$vh" iommu-groups
echo

echo "== virt-hostdev nodedev-dumpxml pci_0000_01_01_0"
"$vh" nodedev-dumpxml pci_0000_01_01_0
echo

echo "== virt-hostdev nodedev-info pci_0000_01_01_0"
"$vh" nodedev-info pci_0000_01_01_0
echo

# What `virsh nodedev-detach pci_0000_01_01_0` does: only that device moves.
echo "== bind 0000:01:01.0 alone to vfio-pci, as libvirt's nodedev-detach does"
modprobe vfio-pci
tb_bind 0000:01:01.0 vfio-pci
"$vh" iommu-groups 0000:01:01.0
echo
echo "(group of 01:01.0 is still not viable: 01:02.0 stays on e1000; QEMU would"
echo " fail with 'group N is not viable'. Holding such peers is virt-hostdev's job.)"
