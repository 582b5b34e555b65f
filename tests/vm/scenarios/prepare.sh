#!/usr/bin/env bash
# prepare/release of a domain without libvirt, on a real kernel: the edu
# device 00:03.0 (alone in its group, no driver) and 01:01.0 (its group
# holds 01:02.0 and the bridge), both managed:
#   - --dry-run changes nothing; prepare moves both to vfio-pci and holds
#     01:02.0, both groups viable for VFIO, owned by the domain;
#   - another domain wanting a device of those groups is refused by name;
#   - an unmanaged device not on vfio-pci is refused and nothing moves;
#   - release gives back exactly that;
#   - a crash at every step and phase of prepare and of release, each
#     followed by `recover`, leaves every device where it started (or, past
#     the last step, where the operation puts it) and no journal.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
edu=0000:00:03.0
nic=0000:01:01.0
peer=0000:01:02.0
work=$(mktemp -d)
export VIRT_HOSTDEV_TIMEOUT_MS=5000
tb_assert_file "$vh" "the built virt-hostdev"

registry_devices() {
    [[ -e /run/virt-hostdev/registry.json ]] || return 0
    python3 -c 'import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    print(d["address"], d["role"], d["owner"])' /run/virt-hostdev/registry.json
}

# domain NAME MANAGED ADDR...: a domain XML with a <hostdev> per address.
domain() {
    local name=$1 managed=$2 a
    shift 2
    echo "<domain type='qemu'><name>$name</name><memory unit='MiB'>64</memory>"
    echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
    for a in "$@"; do
        IFS=':.' read -r d b s f <<<"$a"
        echo "<hostdev mode='subsystem' type='pci' managed='$managed'><source>"
        echo "<address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/>"
        echo "</source></hostdev>"
    done
    echo "</devices></domain>"
}
domain vm1 yes $edu $nic >"$work/vm1.xml"
domain vm2 yes $peer >"$work/vm2.xml"
domain vm3 no $peer >"$work/vm3.xml"

start="/e1000/e1000"
prepared="vfio-pci/vfio-pci/pci-stub"
tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers at boot"

echo "== prepare --dry-run"
out=$("$vh" prepare "$work/vm1.xml" --dry-run)
echo "$out"
[[ $out == *"locked memory: 1140850688 bytes (RLIMIT_MEMLOCK for the QEMU process)"* ]] ||
    tb_fail "prepare --dry-run does not print the locked memory (64 MiB + 1 GiB): $out"
tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers after --dry-run"
tb_assert_eq "" "$(registry_devices)" "registry after --dry-run"

echo "== prepare"
"$vh" prepare "$work/vm1.xml"
tb_assert_eq "$prepared" "$(tb_drivers_of / $edu $nic $peer)" "drivers after prepare"
tb_assert_eq "$edu assigned vm1
$nic assigned vm1
$peer held vm1" "$(registry_devices)" "registry after prepare"
for g in $(tb_group_of $edu) $(tb_group_of $nic); do
    tb_assert_eq "viable" "$("$here/vfio-group-status.py" "$g")" \
        "VFIO_GROUP_GET_STATUS of group $g after prepare"
done
out=$("$vh" who-holds $nic)
[[ $out == *"assigned to vm1"* ]] || tb_fail "who-holds does not name vm1: $out"

echo "== prepare again: nothing moves"
out=$("$vh" prepare "$work/vm1.xml")
echo "$out"
[[ $out != *" -> "* ]] || tb_fail "a second prepare moved something: $out"

echo "== another domain is refused, naming the owner"
status=0
out=$("$vh" prepare "$work/vm2.xml" 2>&1) || status=$?
echo "$out"
tb_assert_eq 1 "$status" "exit status of prepare vm2"
tb_assert_eq 1 "$(wc -l <<<"$out")" "lines of the refusal"
[[ $out == *"IOMMU group $(tb_group_of $peer) belongs to vm1; vm2 cannot use it"* ]] ||
    tb_fail "the refusal does not name vm1: $out"
tb_assert_eq "$prepared" "$(tb_drivers_of / $edu $nic $peer)" "drivers after the refusal"

echo "== release"
"$vh" release "$work/vm1.xml"
tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers after release"
tb_assert_eq "" "$(registry_devices)" "registry after release"
out=$("$vh" release "$work/vm1.xml")
tb_assert_eq "nothing is recorded for vm1: nothing to give back" "$out" "release again"

echo "== an unmanaged device that is not on vfio-pci is refused"
status=0
out=$("$vh" prepare "$work/vm3.xml" 2>&1) || status=$?
echo "$out"
tb_assert_eq 1 "$status" "exit status of prepare vm3"
[[ $out == *"$peer (e1000) is unmanaged (managed='no') in vm3 but not on vfio-pci"* ]] ||
    tb_fail "the refusal does not say why: $out"
tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers after the refusal of vm3"

echo "== crash at every step and phase, then recover"
crashes=0
for op in prepare release; do
    for point in 0 0:override 0:unbind 0:probe 0:bind 1 1:override 1:unbind \
                 1:probe 1:bind 2 2:override 2:unbind 2:probe 2:bind commit; do
        [[ $op == release ]] && "$vh" prepare "$work/vm1.xml" >/dev/null
        status=0
        VIRT_HOSTDEV_FAULT="$op:$point" "$vh" $op "$work/vm1.xml" \
            >/dev/null 2>"$TESTBED_RESULTS/fault.err" || status=$?
        if [[ $status -eq 134 ]]; then
            crashes=$((crashes + 1))
            tb_assert_file /run/virt-hostdev/journal.json "the journal after a crash at $op:$point"
        else
            tb_assert_eq 0 "$status" "exit status of $op with the unreached fault point $point"
        fi
        "$vh" recover >/dev/null
        [[ ! -e /run/virt-hostdev/journal.json ]] ||
            tb_fail "journal left after recover ($op:$point)"
        # Rolled back, unless every step had run (the commit) or the
        # point was never reached.
        rolled_back=no
        [[ $status -eq 134 && $point != commit ]] && rolled_back=yes
        if [[ ($rolled_back == yes && $op == prepare) ||
              ($rolled_back == no && $op == release) ]]; then
            tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers after $op:$point and recover"
            tb_assert_eq "" "$(registry_devices)" "registry after $op:$point and recover"
        else
            tb_assert_eq "$prepared" "$(tb_drivers_of / $edu $nic $peer)" "drivers after $op:$point and recover"
            tb_assert_eq "$edu assigned vm1
$nic assigned vm1
$peer held vm1" "$(registry_devices)" "registry after $op:$point and recover"
            "$vh" release "$work/vm1.xml" >/dev/null
        fi
        tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers before the next point ($op:$point)"
    done
done
echo "$crashes injected crashes recovered"
# prepare: step 0 (edu, no driver: no unbind) before it, override, probe;
# steps 1 and 2 before, override, unbind, probe; the commit: 3+4+4+1.
# release: step 0 (back to no driver: no bind) before, override, unbind;
# steps 1 and 2 before, override, unbind, bind; the commit: 3+4+4+1.
tb_assert_eq 24 "$crashes" "fault points that crashed the process"
echo "PASS: prepare"
