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
echo "(not viable: 01:02.0 stays on e1000, and QEMU would fail with"
echo " 'group 4 is not viable')"
echo
tb_bind 0000:01:01.0 e1000
echo > /sys/bus/pci/devices/0000:01:01.0/driver_override

echo "== virt-hostdev nodedev-detach pci_0000_01_01_0 --dry-run"
"$vh" nodedev-detach pci_0000_01_01_0 --dry-run
echo
echo "== virt-hostdev nodedev-detach pci_0000_01_01_0 (the group, owned by 'manual')"
"$vh" nodedev-detach pci_0000_01_01_0
"$vh" iommu-groups 0000:01:01.0
echo "owner: $(/usr/bin/python3 -c 'import json; r = json.load(open("/run/virt-hostdev/registry.json")); print(", ".join(d["address"] + " " + d["role"] + " by " + d["owner"] for d in r["devices"]))')"
echo
echo "== virt-hostdev nodedev-reattach pci_0000_01_01_0 (everything back)"
"$vh" nodedev-reattach pci_0000_01_01_0
"$vh" iommu-groups 0000:01:01.0

# The device backend: the manager opens the group and hands its fds to an
# unprivileged process that proves what the device allows.
echo
echo "== virt-hostdev nodedev-detach 00:03.0 (QEMU's edu device, alone in its group)"
"$vh" nodedev-detach 00:03.0
if "$vh" help 2>/dev/null | grep -q '^  device-info '; then
    echo
    echo "== virt-hostdev device-info 00:03.0"
    # Shown, not asserted here: device-info has its own tests; a failure
    # is printed and the demo goes on to the backend.
    "$vh" device-info 00:03.0 || echo "(device-info FAILED with status $?)"
fi
echo
echo "== virt-hostdev device-selftest 00:03.0 (backend runs as uid 65534, fds passed)"
"$vh" device-selftest 00:03.0
echo
"$vh" nodedev-reattach 00:03.0
