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


tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers of 01:01.0 and 01:02.0 at boot"
[[ ! -e /sys/module/vfio_pci ]] || tb_fail "vfio_pci is loaded before the test"

echo "== plan (dry run)"
"$vh" nodedev-detach pci_0000_01_01_0 --dry-run
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after --dry-run"

echo "== detach with the group held (loads vfio-pci and pci-stub)"
"$vh" nodedev-detach pci_0000_01_01_0
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after detach"
tb_assert_eq "" "$(tb_driver_of 0000:00:04.0)" "the bridge keeps no driver"
tb_assert_eq "viable" "$("$here/vfio-group-status.py" "$group")" \
    "VFIO_GROUP_GET_STATUS of group $group after detach"
"$vh" iommu-groups $nic

echo "== who-holds: the owner from the registry, the processes from /proc"
out=$("$vh" who-holds $nic)
echo "$out"
[[ $out == *"assigned to manual"* ]] || tb_fail "who-holds does not name the owner: $out"
info=$("$vh" nodedev-info $nic)
[[ $info == *$'\nOwner:        manual (assigned)\n'* ]] ||
    tb_fail "nodedev-info does not show the owner of $nic: $info"
# shellcheck disable=SC2217 # sleep only has to hold the group open
sleep 30 </dev/vfio/"$group" &
holder=$!
# The child opens the node before it execs sleep; wait for both.
for _ in $(seq 100); do
    [[ $(readlink /proc/$holder/fd/0 2>/dev/null) == /dev/vfio/$group &&
       $(cat /proc/$holder/comm 2>/dev/null) == sleep ]] && break
    sleep 0.05
done
out=$("$vh" who-holds $nic)
echo "$out"
[[ $out == *"/dev/vfio/$group open by pid $holder (sleep)"* ]] ||
    tb_fail "who-holds does not list pid $holder holding /dev/vfio/$group: $out"
kill "$holder"
wait "$holder" 2>/dev/null || true
out=$("$vh" who-holds $nic)
[[ $out == *"/dev/vfio/$group not open"* ]] ||
    tb_fail "who-holds still lists a holder after pid $holder was killed: $out"

echo "== another owner is refused, naming the owner"
if out=$("$vh" nodedev-detach $peer --owner vm2 2>&1); then
    tb_fail "detach by vm2 of a peer in manual's group succeeded: $out"
fi
[[ $out == *"belongs to manual"* ]] || tb_fail "refusal does not name the owner: $out"

echo "== reattach gives both back"
"$vh" nodedev-reattach pci_0000_01_01_0
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after reattach"
[[ ! -e /dev/vfio/$group ]] || tb_fail "/dev/vfio/$group outlived the reattach"

echo "== several devices are one operation"
"$vh" nodedev-detach 0000:00:03.0 pci_0000_01_01_0
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after detach of 00:03.0 and $nic"
tb_assert_eq vfio-pci "$(tb_driver_of 0000:00:03.0)" "driver of 00:03.0 after the detach of two"
"$vh" nodedev-reattach 0000:00:03.0 pci_0000_01_01_0
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after reattach of 00:03.0 and $nic"
tb_assert_eq "" "$(tb_driver_of 0000:00:03.0)" "driver of 00:03.0 after the reattach of two"

echo "== reattach of a device never detached: a no-op"
"$vh" nodedev-reattach 0000:00:03.0 | grep -q "was not detached by virt-hostdev" ||
    tb_fail "reattach of 00:03.0 did not say it was left alone"

echo "== reattach --force: what virt-hostdev did not detach goes to its host driver"
edu=0000:00:03.0
edu_group=$(tb_group_of $edu)
# Raw sysfs writes (tb_bind), as a user or another tool would do them.
tb_bind $nic vfio-pci
"$vh" nodedev-reattach $nic | grep -q "was not detached by virt-hostdev" ||
    tb_fail "plain reattach of $nic (raw-bound to vfio-pci) did not leave it alone"
tb_assert_eq "vfio-pci e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after a plain reattach of a raw-bound $nic"
out=$("$vh" nodedev-reattach $nic --force)
echo "$out"
[[ $out == *"$nic: vfio-pci -> e1000 (forced)"* ]] || tb_fail "reattach --force of $nic says: $out"
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after reattach --force of $nic"
[[ ! -e /dev/vfio/$group ]] || tb_fail "/dev/vfio/$group outlived reattach --force"
tb_assert_eq "" "$(cat $TB_SYSFS_PCI/$nic/driver_override | sed 's/(null)//')" \
    "driver_override of $nic after reattach --force"

# The module is not loaded: --force loads it by the device's modalias.
tb_bind $nic vfio-pci
tb_bind $peer pci-stub
rmmod e1000
[[ ! -d /sys/bus/pci/drivers/e1000 ]] || tb_fail "e1000 is still registered after rmmod"
out=$("$vh" nodedev-reattach $nic --force)
echo "$out"
tb_assert_eq "e1000 pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after reattach --force with e1000 unloaded"

# The group belongs to an owner: refused, naming it; nothing changes.
"$vh" nodedev-detach $nic >/dev/null
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after detach ($peer already held by hand)"
for dev in $nic $peer; do
    status=0
    out=$("$vh" nodedev-reattach $dev --force 2>&1) || status=$?
    echo "$out"
    tb_assert_eq 1 "$status" "exit status of reattach --force of $dev in manual's group"
    [[ $out == *"manual"* ]] || tb_fail "reattach --force of $dev does not name the owner: $out"
done
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after the refused reattach --force"
"$vh" nodedev-reattach $nic >/dev/null
# 01:02.0 was on pci-stub before the detach: not recorded, so it stays.
tb_assert_eq "e1000 pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after the plain reattach"
"$vh" nodedev-reattach $peer --force
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after reattach --force of $peer"

# No host driver claims edu: it ends on no driver.
tb_bind $edu pci-stub
out=$("$vh" nodedev-reattach $edu --force)
echo "$out"
tb_assert_eq "" "$(tb_driver_of $edu)" "driver of $edu after reattach --force"
[[ $out == *"no host driver claims $edu"* ]] || tb_fail "reattach --force of $edu says: $out"

# A process has the group open: refused, naming it.
tb_bind $edu vfio-pci
# shellcheck disable=SC2217 # sleep only has to hold the group open
sleep 30 </dev/vfio/"$edu_group" &
holder=$!
for _ in $(seq 100); do
    [[ $(readlink /proc/$holder/fd/0 2>/dev/null) == /dev/vfio/$edu_group &&
       $(cat /proc/$holder/comm 2>/dev/null) == sleep ]] && break
    sleep 0.05
done
status=0
out=$("$vh" nodedev-reattach $edu --force 2>&1) || status=$?
echo "$out"
tb_assert_eq 1 "$status" "exit status of reattach --force of $edu while pid $holder holds it"
[[ $out == *"/dev/vfio/$edu_group is open by pid $holder (sleep)"* ]] ||
    tb_fail "reattach --force of $edu does not name pid $holder: $out"
tb_assert_eq vfio-pci "$(tb_driver_of $edu)" "driver of $edu after the refusal"
kill "$holder"
wait "$holder" 2>/dev/null || true

# A crash at each point of the one step, then recover.
for point in 0 0:override 0:unbind 0:probe commit; do
    [[ $(tb_driver_of $edu) == vfio-pci ]] || tb_bind $edu vfio-pci
    status=0
    VIRT_HOSTDEV_FAULT="force-reattach:$point" "$vh" nodedev-reattach $edu --force \
        >/dev/null 2>"$TESTBED_RESULTS/fault.err" || status=$?
    tb_assert_eq 134 "$status" "exit status of reattach --force crashed at $point"
    out=$("$vh" recover)
    echo "force-reattach:$point: $out"
    if [[ $point == commit ]]; then
        tb_assert_eq "" "$(tb_driver_of $edu)" "driver of $edu after a crash at commit and recover"
    else
        tb_assert_eq vfio-pci "$(tb_driver_of $edu)" "driver of $edu after a crash at $point and recover"
    fi
    [[ ! -e /run/virt-hostdev/journal.json ]] || tb_fail "journal left after recover (force-reattach:$point)"
done
[[ $(tb_driver_of $edu) == vfio-pci ]] && "$vh" nodedev-reattach $edu --force >/dev/null
tb_assert_eq "" "$(tb_driver_of $edu)" "driver of $edu at the end"

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
            tb_assert_eq "$after" "$(tb_drivers_of " " $nic $peer)" "drivers after a crash at $op:commit and recover"
        elif [[ $status -eq 134 ]]; then
            crashes=$((crashes + 1))
            tb_assert_eq "$before" "$(tb_drivers_of " " $nic $peer)" "drivers after a crash at $op:$point and recover"
        else
            tb_assert_eq 0 "$status" "exit status of $op with the unreached fault point $point"
            tb_assert_eq "$after" "$(tb_drivers_of " " $nic $peer)" "drivers after $op (fault point $point not reached)"
        fi
        [[ ! -e /run/virt-hostdev/journal.json ]] ||
            tb_fail "journal left after recover ($op:$point)"
        # Back to the start for the next point.
        [[ $(tb_drivers_of " " $nic $peer) == "vfio-pci pci-stub" ]] && "$vh" nodedev-reattach $nic >/dev/null
        tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers before the next point ($op:$point)"
    done
done
echo "$crashes injected crashes recovered"
# detach: steps 0 and 1, each before and at override, unbind, probe (8);
# reattach: the same with bind instead of probe for the restore (8); and
# the commit of each (2).
tb_assert_eq 18 "$crashes" "fault points that crashed the process"

echo "== nodedev-reset: the kernel's reset, refused for what is someone's"
# Linux 6.1 decides the methods when it probes a device: 01:01.0 was alone
# on the bridge's bus then and got "bus", 01:02.0 came second and got none
# (pci_parent_bus_reset() wants a device alone on its bus).
tb_assert_eq "bus" "$(cat $TB_SYSFS_PCI/$nic/reset_method)" "reset_method of $nic"
[[ ! -e $TB_SYSFS_PCI/$peer/reset_method && ! -e $TB_SYSFS_PCI/$peer/reset ]] ||
    tb_fail "$peer has a reset method now: $(cat $TB_SYSFS_PCI/$peer/reset_method 2>&1)"

# reset_refused DEVICE TEXT...: nodedev-reset DEVICE exits 1 with one line
# that holds every TEXT, and changes no driver.
reset_refused() {
    local dev=$1 out status=0 want before
    shift
    before=$(tb_drivers_of " " $nic $peer)
    out=$("$vh" nodedev-reset "$dev" 2>&1) || status=$?
    echo "$out"
    tb_assert_eq 1 "$status" "exit status of nodedev-reset $dev: $out"
    tb_assert_eq 1 "$(wc -l <<<"$out")" "lines from nodedev-reset $dev"
    for want in "$@"; do
        [[ $out == *"$want"* ]] || tb_fail "nodedev-reset $dev does not say '$want': $out"
    done
    tb_assert_eq "$before" "$(tb_drivers_of " " $nic $peer)" "drivers after the refused reset of $dev"
}

# No reset_method, no reset file: no reset method.
reset_refused $peer "$peer (e1000) has no reset method (no FLR, PM or bus reset)"

"$vh" nodedev-detach $nic >/dev/null
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of " " $nic $peer)" "drivers after detach (reset checks)"
reset_refused $nic "$nic is bound to vfio-pci (assigned to manual)" \
    "VFIO_DEVICE_RESET" "nodedev-reattach pci_0000_01_01_0"
reset_refused $peer "$peer (pci-stub) is held for manual"
# The bridge ("pm"): its reset reaches both.
reset_refused 0000:00:04.0 "0000:00:04.0 (no driver) is a bridge" \
    "$nic (vfio-pci, assigned to manual), $peer (pci-stub, held for manual)"
"$vh" nodedev-reattach $nic >/dev/null

# 01:01.0 has only "bus", whose reset of the bridge's bus reaches 01:02.0.
"$vh" nodedev-detach $peer --no-hold >/dev/null
tb_assert_eq "e1000 vfio-pci" "$(tb_drivers_of " " $nic $peer)" "drivers after detach --no-hold of $peer"
reset_refused $nic "$nic (e1000) can be reset only by a secondary bus reset of 0000:00:04.0 (reset_method: bus)" \
    "which would also reset $peer (vfio-pci, detached for manual)"
"$vh" nodedev-reattach $peer >/dev/null
tb_assert_eq "e1000 e1000" "$(tb_drivers_of " " $nic $peer)" "drivers after the reset checks"
echo "PASS: hostdev"
