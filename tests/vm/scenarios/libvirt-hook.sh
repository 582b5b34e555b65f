#!/usr/bin/env bash
# libvirt 9.0 with a managed <hostdev> for 01:01.0, whose IOMMU group also
# holds 01:02.0 (e1000) and the bridge 00:04.0:
#   - without our hook, `virsh start --paused` fails: "group N is not viable";
#   - with `virt-hostdev install-hook` (libvirtd restarted to see it), the
#     start succeeds: 01:01.0 on vfio-pci (bound by libvirt), 01:02.0 held
#     on pci-stub, who-holds names the domain and QEMU holding /dev/vfio/N;
#   - `virsh destroy` gives both back to e1000 and empties the registry;
#   - a hook refusal (the group belongs to someone else) fails the start
#     with our one line, and changes nothing.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
nic=0000:01:01.0
peer=0000:01:02.0
group=$(tb_group_of $nic)
work=$(mktemp -d)
tb_assert_file "$vh" "the built virt-hostdev"

virsh() { command virsh -q -c qemu:///system "$@"; }
registry_devices() {
    [[ -e /run/virt-hostdev/registry.json ]] || return 0
    python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    print(d["address"], d["role"], d["owner"])' /run/virt-hostdev/registry.json
}
restart_libvirtd() {
    local pid
    pid=$(cat /run/libvirtd.pid)
    kill "$pid"
    tb_wait_until 30 "libvirtd (pid $pid) to exit" eval "! kill -0 $pid 2>/dev/null"
    libvirtd -d
    tb_wait_until 60 "libvirtd to answer again" tb__libvirt_answers
}

cat >"$work/vm1.xml" <<'EOF'
<domain type='qemu'>
  <name>vm1</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x01' slot='0x01' function='0x0'/></source>
    </hostdev>
  </devices>
</domain>
EOF

tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers of 01:01.0 and 01:02.0 at boot"
# libvirt refuses any PCI passthrough ("host doesn't support passthrough
# of host PCI devices") while /dev/vfio/vfio is missing: load VFIO first,
# as a host set up for assignment has it.
modprobe vfio-pci
tb_start_libvirt
virsh define "$work/vm1.xml" >/dev/null

echo "== without the hook: libvirt binds 01:01.0 alone, QEMU refuses the group"
status=0
out=$(virsh start --paused vm1 2>&1) || status=$?
echo "$out"
[[ $status -ne 0 ]] || tb_fail "vm1 started without the hook although group $group is not viable"
[[ $out == *"group $group is not viable"* ]] ||
    tb_fail "the failed start does not say 'group $group is not viable': $out"
tb_wait_until 30 "libvirt to give 01:01.0 back after the failed start" \
    eval '[[ $(tb_drivers_of " " $nic $peer) == "e1000 e1000" ]]'

echo "== install the hook, restart libvirtd so that it sees it"
"$vh" install-hook
tb_assert_file /etc/libvirt/hooks/qemu.d/virt-hostdev "the installed hook"
out=$("$vh" install-hook)
[[ $out == "already installed: /etc/libvirt/hooks/qemu.d/virt-hostdev" ]] ||
    tb_fail "install-hook run again is not a no-op: $out"
restart_libvirtd

echo "== with the hook: the start succeeds, the group is held"
virsh start --paused vm1
[[ $(virsh domstate vm1) == paused* ]] || tb_fail "vm1 is not paused: $(virsh domstate vm1)"
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers while vm1 runs"
tb_assert_eq "" "$(tb_driver_of 0000:00:04.0)" "the bridge keeps no driver"
tb_assert_eq "$nic assigned vm1
$peer held vm1" "$(registry_devices)" "registry while vm1 runs"
out=$("$vh" who-holds $nic)
echo "$out"
[[ $out == *"$nic: assigned to vm1 (vfio-pci, was e1000), IOMMU group $group"* ]] ||
    tb_fail "who-holds does not name vm1: $out"
[[ $out == *"/dev/vfio/$group open by pid "*"(qemu-system-x86)"* ]] ||
    tb_fail "who-holds does not show QEMU holding /dev/vfio/$group: $out"
out=$("$vh" who-holds $peer)
[[ $out == *"$peer: held for vm1 (pci-stub, was e1000)"* ]] ||
    tb_fail "who-holds of the peer does not name vm1: $out"

echo "== virsh destroy: libvirt gives 01:01.0 back, the hook 01:02.0"
virsh destroy vm1
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after virsh destroy"
tb_assert_eq "" "$(registry_devices)" "registry after virsh destroy"
[[ ! -e /run/virt-hostdev/journal.json ]] || tb_fail "a journal is left"

echo "== the hook refuses a group that belongs to someone else"
"$vh" nodedev-detach $peer --owner other --no-hold >/dev/null
status=0
out=$(virsh start --paused vm1 2>&1) || status=$?
echo "$out"
[[ $status -ne 0 ]] || tb_fail "vm1 started although group $group belongs to 'other'"
[[ $out == *"Hook script execution failed"* &&
   $out == *"IOMMU group $group belongs to other; vm1 cannot use it"* ]] ||
    tb_fail "the failed start does not show the hook's reason: $out"
tb_assert_eq "e1000 vfio-pci" "$(tb_drivers_of " " $nic $peer)" "drivers after the refused start"
tb_assert_eq "$peer detached other" "$(registry_devices)" "registry after the refused start"
"$vh" nodedev-reattach $peer >/dev/null
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers at the end"

echo "== and starts again once the group is free"
virsh start --paused vm1
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers while vm1 runs again"
virsh destroy vm1
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after the second destroy"
tb_assert_eq "" "$(registry_devices)" "registry after the second destroy"
echo "PASS: libvirt-hook"
