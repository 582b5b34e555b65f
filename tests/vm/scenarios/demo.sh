#!/usr/bin/env bash
# The main job, shown on a kernel with a real IOMMU: what virt-hostdev sees
# of the guest's IOMMU groups, and what happens to group viability when a
# device is detached the way libvirt does it (that device alone); then a
# domain prepared from its XML, QEMU started with the -device arguments
# built from the same XML (the devices shown by QMP), and released.
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
echo

# Issue 5: a domain, prepared by virt-hostdev, run by a QEMU started with
# the arguments virt-hostdev builds from its XML, then released.
echo "== a domain with two managed <hostdev>s: edu 00:03.0 and e1000 01:01.0"
demo_work=$(mktemp -d)
cat >"$demo_work/demo-vm.xml" <<'EOF2'
<domain type='qemu'>
  <name>demo-vm</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <controller type='pci' index='0' model='pcie-root'/>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></source>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x01' slot='0x01' function='0x0'/></source>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
      <rom bar='off'/>
    </hostdev>
  </devices>
</domain>
EOF2
cat "$demo_work/demo-vm.xml"
echo
echo "== virt-hostdev prepare demo-vm.xml --dry-run"
"$vh" prepare "$demo_work/demo-vm.xml" --dry-run
echo
echo "== virt-hostdev prepare demo-vm.xml (all or nothing, owned by demo-vm)"
prepared=$("$vh" prepare "$demo_work/demo-vm.xml")
echo "$prepared"
memlock=$(sed -n 's/^locked memory: \([0-9]*\) bytes.*/\1/p' <<<"$prepared")
"$vh" iommu-groups 0000:01:01.0
echo
echo "== virt-hostdev domxml-to-native qemu-argv demo-vm.xml"
argv=$("$vh" domxml-to-native qemu-argv "$demo_work/demo-vm.xml")
echo "$argv"
demo_args=()
while IFS= read -r line; do
    eval "demo_args+=($line)"
done <<<"$argv"
echo
echo "== QEMU started with them (RLIMIT_MEMLOCK $memlock bytes), paused"
sock=$demo_work/qmp.sock
prlimit --memlock="$memlock:$memlock" \
    qemu-system-x86_64 -S -nodefaults -display none -machine q35 -m 64 \
    -accel tcg -qmp "unix:$sock,server=on,wait=off" "${demo_args[@]}" \
    >"$demo_work/qemu.log" 2>&1 &
qemu_pid=$!
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
echo "query-pci over QMP (parent bus, slot, function, id):"
"$here/qmp-find-pci.py" "$sock" 1234:11e8 || { cat "$demo_work/qemu.log"; tb_fail "QEMU does not show edu"; }
"$here/qmp-find-pci.py" "$sock" 8086:100e || { cat "$demo_work/qemu.log"; tb_fail "QEMU does not show the e1000"; }
"$vh" who-holds 0000:01:01.0
echo "(quit QEMU)"
"$here/qmp-find-pci.py" "$sock" 1234:11e8 --quit >/dev/null
wait "$qemu_pid" || { cat "$demo_work/qemu.log"; tb_fail "QEMU exited with an error"; }
echo
echo "== virt-hostdev release demo-vm.xml (exactly what prepare took goes back)"
"$vh" release "$demo_work/demo-vm.xml"
"$vh" iommu-groups 0000:01:01.0
tb_assert_eq " e1000 e1000" "$(tb_driver_of 0000:00:03.0) $(tb_driver_of 0000:01:01.0) $(tb_driver_of 0000:01:02.0)" \
    "drivers after release"

# The device backend: the manager opens the group and hands its fds to an
# unprivileged process that proves what the device allows.
echo
echo "== virt-hostdev nodedev-detach 00:03.0 (QEMU's edu device, alone in its group)"
"$vh" nodedev-detach 00:03.0
echo
echo "== virt-hostdev device-info 00:03.0"
"$vh" device-info 00:03.0
echo
echo "== virt-hostdev device-selftest 00:03.0 (backend runs as uid 65534, fds passed)"
"$vh" device-selftest 00:03.0
echo
"$vh" nodedev-reattach 00:03.0
