#!/usr/bin/env bash
# libvirt 9.0 runs in the test bed and sees the same IOMMU groups as sysfs:
# `virsh nodedev-dumpxml pci_0000_01_01_0` lists the members of the group of
# the PCIe-to-PCI bridge, and the XML validates against libvirt's schema.
#
#   tests/vm/testbed tests/vm/scenarios/libvirt-nodedev.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

start=$EPOCHREALTIME
tb_start_libvirt
echo "libvirtd answered after $(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
virsh -c qemu:///system version

xml=$TESTBED_RESULTS/pci_0000_01_01_0.xml
virsh -c qemu:///system nodedev-dumpxml pci_0000_01_01_0 >"$xml"
cat "$xml"

group=$(tb_group_of 0000:01:01.0)
tb_assert_eq "<iommuGroup number='$group'>" \
    "$(grep -o "<iommuGroup number='[0-9]*'>" "$xml")" \
    "iommuGroup element of pci_0000_01_01_0 (sysfs says group $group)"

# <address domain='0x0000' bus='0x01' slot='0x01' function='0x0'/> -> 0000:01:01.0
listed=$(sed -n '/<iommuGroup/,/<\/iommuGroup>/p' "$xml" |
    sed -n "s/.*<address domain='0x\([0-9a-f]*\)' bus='0x\([0-9a-f]*\)' slot='0x\([0-9a-f]*\)' function='0x\([0-9a-f]*\)'.*/\1:\2:\3.\4/p" |
    LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
tb_assert_eq "$(tb_group_members "$group" | tr '\n' ' ' | sed 's/ $//')" "$listed" \
    "addresses listed under <iommuGroup> by virsh nodedev-dumpxml pci_0000_01_01_0"
tb_assert_eq "0000:00:04.0 0000:01:01.0 0000:01:02.0" "$listed" \
    "group of 01:01.0 (the PCIe-to-PCI bridge and both e1000)"

schema=/usr/share/libvirt/schemas/nodedev.rng
if command -v xmllint >/dev/null && [[ -f $schema ]]; then
    xmllint --noout --relaxng "$schema" "$xml" ||
        tb_fail "virsh nodedev-dumpxml output does not validate against $schema"
else
    echo "note: xmllint or $schema missing; schema check not done"
fi
echo "PASS: libvirt-nodedev"
