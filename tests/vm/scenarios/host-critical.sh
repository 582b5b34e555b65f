#!/usr/bin/env bash
# On a real kernel, what the host lives on blocks assignment of the whole
# group: a mounted ext4 disk (virtio-blk at 01:03.0) and the default route
# through the e1000 at 01:02.0, both behind the PCIe-to-PCI bridge.
# Run through tests/vm/host-critical.sh, which adds the disk.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
disk=0000:01:03.0
nic=0000:01:02.0

tb_assert_eq "$(tb_group_of 0000:01:01.0)" "$(tb_group_of $disk)" \
    "the virtio-blk disk shares the e1000s' group"
blk=$(ls /sys/bus/pci/devices/$disk/virtio*/block)
mkdir -p /mnt/data
mount "/dev/$blk" /mnt/data
ifname=$(ls /sys/bus/pci/devices/$nic/net)
ip link set "$ifname" up
ip addr add 192.0.2.10/24 dev "$ifname"
ip route add default via 192.0.2.1 dev "$ifname"

verdict() {
    "$vh" nodedev-info --json "$1" | /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
print(v["verdict"], v["assignable"],
      " ".join(sorted(d["address"] for r in v["reasons"]
                      if r["code"] == "host-critical" for d in r["devices"])))'
}

"$vh" nodedev-info $disk
echo
"$vh" iommu-groups $disk
echo

tb_assert_eq "host-critical False $nic $disk" "$(verdict $disk)" \
    "verdict of the disk controller carrying /mnt/data"
tb_assert_eq "host-critical False $nic $disk" "$(verdict 0000:01:01.0)" \
    "verdict of the idle e1000 whose group peers the host uses"
"$vh" nodedev-info 0000:01:01.0 | grep -q "mounted filesystem /mnt/data on $blk" ||
    tb_fail "nodedev-info 01:01.0 does not name the mount /mnt/data on $blk"
"$vh" nodedev-info 0000:01:01.0 | grep -q "default route via $ifname (gateway 192.0.2.1)" ||
    tb_fail "nodedev-info 01:01.0 does not name the default route via $ifname"

# The manager refuses to detach 01:01.0: holding its peers would take the
# disk and the route from the host; nothing changes.
before=$(for d in 0000:01:01.0 0000:01:02.0 $disk; do tb_driver_of $d; done | tr '\n' ' ')
status=0
out=$("$vh" nodedev-detach 0000:01:01.0 2>&1) || status=$?
tb_assert_eq 1 "$status" "exit status of nodedev-detach 01:01.0 with the host using its group"
[[ $out == *"$disk (virtio-pci, would be held): mounted filesystem /mnt/data on $blk"* ]] ||
    tb_fail "the refusal does not name the disk: $out"
[[ $out == *"--force"* ]] || tb_fail "the refusal does not say how to override: $out"
tb_assert_eq "$before" \
    "$(for d in 0000:01:01.0 0000:01:02.0 $disk; do tb_driver_of $d; done | tr '\n' ' ')" \
    "drivers after the refused detach"
[[ ! -e /run/virt-hostdev/registry.json ]] || tb_fail "the refused detach wrote the registry"
echo "refused: $out"

# Without the mount and the route the group is merely shared.
ip route del default
ip addr flush dev "$ifname"
umount /mnt/data
tb_assert_eq "needs-group True " "$(verdict 0000:01:01.0)" \
    "verdict of 01:01.0 once the host uses nothing in its group"
echo "PASS: host-critical"
