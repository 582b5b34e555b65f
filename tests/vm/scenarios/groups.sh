#!/usr/bin/env bash
# The guest's IOMMU groups are the ones the default device set should give,
# and vfio-pci can take a device that is alone in its group.
#
#   tests/vm/testbed tests/vm/scenarios/groups.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

echo "== IOMMU groups in the test bed"
tb_print_groups
echo

# The PCIe-to-PCI bridge and both e1000 behind it share one group: the IOMMU
# cannot tell devices behind such a bridge apart.
bridge_group=$(tb_group_of 0000:00:04.0)
tb_assert_eq "0000:00:04.0 0000:01:01.0 0000:01:02.0" \
    "$(tb_group_members "$bridge_group" | tr '\n' ' ' | sed 's/ $//')" \
    "members of group $bridge_group (the group of the PCIe-to-PCI bridge 00:04.0)"

# The edu device is a root-complex endpoint: alone in its group.
edu=0000:00:03.0
tb_assert_eq "0x1234:0x11e8" \
    "$(cat /sys/bus/pci/devices/$edu/vendor):$(cat /sys/bus/pci/devices/$edu/device)" \
    "vendor:device of $edu (QEMU edu)"
edu_group=$(tb_group_of $edu)
tb_assert_eq "$edu" "$(tb_group_members "$edu_group" | tr '\n' ' ' | sed 's/ $//')" \
    "members of group $edu_group (the group of edu $edu)"

# Later tests rely on vfio-pci NOT being loaded at boot.
vfio_pci_state=$([[ -e /sys/module/vfio_pci ]] && echo loaded || echo "not loaded")
tb_assert_eq "not loaded" "$vfio_pci_state" "vfio_pci before the scenario loads it"

echo "== modprobe vfio-pci; bind $edu to vfio-pci"
modprobe vfio-pci
tb_assert_file /sys/bus/pci/drivers/vfio-pci "vfio-pci registered its driver"
tb_bind $edu vfio-pci
tb_assert_file "/dev/vfio/$edu_group" "the VFIO group node of group $edu_group"
tb_assert_eq vfio-pci "$(tb_driver_of $edu)" "driver of $edu after binding"
tb_assert_file /dev/vfio/vfio "the VFIO container node"
ls -l /dev/vfio
echo
tb_print_groups | awk -v a=$edu 'NR == 1 || $2 == a'
echo "PASS: groups"
