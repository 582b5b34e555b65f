#!/usr/bin/env bash
# The hostdev manager on a real kernel: group-aware detach and reattach of
# 01:01.0 (its group holds the bridge 00:04.0 and 01:02.0), and recovery
# from a crash at every step and phase of both.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
nic=0000:01:01.0
peer=0000:01:02.0
group=$(tb_group_of $nic)
export VIRT_HOSTDEV_TIMEOUT_MS=5000

drivers() { echo "$(tb_driver_of $nic) $(tb_driver_of $peer)"; }

tb_assert_eq "e1000 e1000" "$(drivers)" "drivers of 01:01.0 and 01:02.0 at boot"
[[ ! -e /sys/module/vfio_pci ]] || tb_fail "vfio_pci is loaded before the test"

echo "== plan (dry run)"
"$vh" nodedev-detach pci_0000_01_01_0 --dry-run
tb_assert_eq "e1000 e1000" "$(drivers)" "drivers after --dry-run"

echo "== detach with the group held (loads vfio-pci and pci-stub)"
"$vh" nodedev-detach pci_0000_01_01_0
tb_assert_eq "vfio-pci pci-stub" "$(drivers)" "drivers after detach"
tb_assert_eq "" "$(tb_driver_of 0000:00:04.0)" "the bridge keeps no driver"
tb_assert_eq "viable" "$("$here/vfio-group-status.py" "$group")" \
    "VFIO_GROUP_GET_STATUS of group $group after detach"
"$vh" iommu-groups $nic

echo "== another owner is refused, naming the owner"
if out=$("$vh" nodedev-detach $peer --owner vm2 2>&1); then
    tb_fail "detach by vm2 of a peer in manual's group succeeded: $out"
fi
[[ $out == *"belongs to manual"* ]] || tb_fail "refusal does not name the owner: $out"

echo "== reattach gives both back"
"$vh" nodedev-reattach pci_0000_01_01_0
tb_assert_eq "e1000 e1000" "$(drivers)" "drivers after reattach"
[[ ! -e /dev/vfio/$group ]] || tb_fail "/dev/vfio/$group outlived the reattach"

echo "== reattach of a device never detached: a no-op"
"$vh" nodedev-reattach 0000:00:03.0 | grep -q "was not detached by virt-hostdev" ||
    tb_fail "reattach of 00:03.0 did not say it was left alone"

echo "== crash at every step and phase, then recover"
# A crash rolls the operation back; a fault point the operation never
# reaches (detach has no bind phase) lets it finish.
crashes=0
for op in detach reattach; do
    if [[ $op == detach ]]; then
        before="e1000 e1000" after="vfio-pci pci-stub"
    else
        before="vfio-pci pci-stub" after="e1000 e1000"
    fi
    for point in 0 0:override 0:unbind 0:probe 0:bind 1 1:override 1:unbind 1:probe 1:bind commit; do
        [[ $op == reattach ]] && "$vh" nodedev-detach $nic >/dev/null
        status=0
        VIRT_HOSTDEV_FAULT="$op:$point" "$vh" "nodedev-$op" $nic \
            >/dev/null 2>"$TESTBED_RESULTS/fault.err" || status=$?
        "$vh" recover >/dev/null
        if [[ $status -eq 134 && $point == commit ]]; then
            # Every step had run: recover completes the operation.
            crashes=$((crashes + 1))
            tb_assert_eq "$after" "$(drivers)" "drivers after a crash at $op:commit and recover"
        elif [[ $status -eq 134 ]]; then
            crashes=$((crashes + 1))
            tb_assert_eq "$before" "$(drivers)" "drivers after a crash at $op:$point and recover"
        else
            tb_assert_eq 0 "$status" "exit status of $op with the unreached fault point $point"
            tb_assert_eq "$after" "$(drivers)" "drivers after $op (fault point $point not reached)"
        fi
        [[ ! -e /run/virt-hostdev/journal.json ]] ||
            tb_fail "journal left after recover ($op:$point)"
        # Back to the start for the next point.
        [[ $(drivers) == "vfio-pci pci-stub" ]] && "$vh" nodedev-reattach $nic >/dev/null
        tb_assert_eq "e1000 e1000" "$(drivers)" "drivers before the next point ($op:$point)"
    done
done
echo "$crashes injected crashes recovered"
# detach: steps 0 and 1, each before and at override, unbind, probe (8);
# reattach: the same with bind instead of probe for the restore (8); and
# the commit of each (2).
tb_assert_eq 18 "$crashes" "fault points that crashed the process"
echo "PASS: hostdev"
