#!/usr/bin/env bash
# virt-hostdevd on a real kernel: queries answered from the inventory it
# keeps, byte for byte what virt-hostdev-cli prints alone, and current after
# every change (a detach, a raw unbind, a device removed and rescanned)
# without a wait: the kernel queues the uevent before the write returns,
# and the daemon drains the queue before it answers.  Detach, reattach and
# reset are run by the daemon; a detach to its end when its client is killed.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}
vh=$build/tools/virt-hostdev
sock=/run/virt-hostdevd/virt-hostdevd-sock
log=/tmp/virt-hostdevd.log
nic=0000:01:01.0
peer=0000:01:02.0
export VIRT_HOSTDEV_TIMEOUT_MS=5000

"$build/tools/virt-hostdevd" --verbose 2>"$log" &
daemon=$!
# It listens, reads the devices, then says so; clients wait meanwhile.
tb_wait_until 60 "virt-hostdevd listening on $sock" grep -q "^virt-hostdevd: listening on $sock for /sys" "$log"
test -S "$sock" || tb_fail "virt-hostdevd says it listens but $sock is no socket"
cat "$log"
grep -q "^virt-hostdevd: read [0-9]* PCI devices below /sys" "$log" ||
    tb_fail "virt-hostdevd did not read the devices at its start: $(cat "$log")"

requests() { grep -c '^virt-hostdevd: request ' "$log" || true; }
# The log's last request line (a re-read after events may come after it).
last_request() { grep '^virt-hostdevd: request ' "$log" | tail -n 1; }

# same WHAT ARGS...: through the daemon and alone, the same stdout, stderr
# and status; the daemon ran it, and its last log line ends with WHAT.
same() {
    local what=$1 n via alone rc_via=0 rc_alone=0
    shift
    n=$(requests)
    via=$("$vh" "$@" 2>&1) || rc_via=$?
    alone=$(VIRT_HOSTDEV_SOCKET= "$vh" "$@" 2>&1) || rc_alone=$?
    tb_assert_eq "$rc_alone" "$rc_via" "status of '$*' through the daemon"
    [[ $via == "$alone" ]] ||
        tb_fail "'$*' through the daemon differs from virt-hostdev-cli alone: $(diff <(echo "$alone") <(echo "$via") | head -20)"
    tb_assert_eq $((n + 1)) "$(requests)" "requests logged after '$*'"
    [[ $(last_request) == *": ran, exit $rc_via,"*"; inventory $what" ]] ||
        tb_fail "'$*': expected 'inventory $what' in: $(last_request)"
}

echo "== queries from the inventory kept since the start"
same kept nodedev-dumpxml --all
same kept nodedev-list --tree
same kept nodedev-dumpxml $nic
same kept nodedev-dumpxml 0000:7f:00.0
[[ $("$vh" nodedev-dumpxml --all | grep -c '<device>') -ge 9 ]] ||
    tb_fail "the daemon's document holds fewer devices than the test bed has"

reads() { grep -c '^virt-hostdevd: read [0-9]* PCI devices' "$log" || true; }
read_more() { (($(reads) > $1)); }

echo "== a detach, run by the daemon from sysfs, shows at once"
n=$(reads)
r=$(requests)
"$vh" nodedev-detach $nic
tb_assert_eq $((r + 1)) "$(requests)" "requests logged after the detach"
[[ $(last_request) == *"nodedev-detach $nic: ran, exit 0,"*"; inventory not used" ]] ||
    tb_fail "the daemon did not run the detach: $(last_request)"
# Idle, the daemon reads the devices again on its own once the events stop.
tb_wait_until 60 "virt-hostdevd reading the devices again after the detach" read_more "$n"
same "read again after device events" nodedev-dumpxml $nic
"$vh" nodedev-dumpxml $nic | grep -q "<name>vfio-pci</name>" ||
    tb_fail "the daemon does not show $nic on vfio-pci right after the detach"
"$vh" nodedev-dumpxml $peer | grep -q "<name>pci-stub</name>" ||
    tb_fail "the daemon does not show $peer held on pci-stub right after the detach"
same kept nodedev-dumpxml --all
"$vh" nodedev-reattach $nic
same "read again after device events" nodedev-dumpxml --all
"$vh" nodedev-dumpxml $peer | grep -q "<name>e1000</name>" ||
    tb_fail "the daemon does not show $peer back on e1000 after the reattach"

echo "== a detach whose client is killed runs to its end"
# The state lock held by hand keeps the daemon's child waiting while its
# client is killed (a Ctrl-C on virt-hostdev); then it runs, as a whole.
exec {lockfd}>>/run/virt-hostdev/lock
flock "$lockfd"
"$vh" nodedev-detach $nic >/dev/null 2>&1 &
front=$!
child() { pgrep -P "$daemon" >/dev/null; }
tb_wait_until 30 "the daemon's child for the detach" child
kill -KILL $front
wait $front 2>/dev/null || true
tb_wait_until 30 "the daemon seeing its client gone" grep -q "the client went away; its command runs to its end" "$log"
child || tb_fail "the daemon stopped the detach when its client went away"
flock -u "$lockfd"
exec {lockfd}>&-
tb_wait_until 60 "the detach run to its end" grep -q "nodedev-detach $nic: ran, exit 0," "$log"
tb_assert_eq "vfio-pci pci-stub" "$(tb_drivers_of ' ' $nic $peer)" "drivers after the detach whose client was killed"
[[ ! -e /run/virt-hostdev/journal.json ]] ||
    tb_fail "the detach whose client was killed left an operation pending: $(cat /run/virt-hostdev/journal.json)"
VIRT_HOSTDEV_SOCKET= "$vh" who-holds $nic | grep -q manual ||
    tb_fail "who-holds does not name the owner 'manual' after the detach: $("$vh" who-holds $nic 2>&1)"
r=$(requests)
"$vh" nodedev-reattach $nic
tb_assert_eq $((r + 1)) "$(requests)" "requests logged after the reattach"
tb_assert_eq "e1000 e1000" "$(tb_drivers_of ' ' $nic $peer)" "drivers after the reattach through the daemon"

echo "== a reset through the daemon answers as alone"
r=$(requests)
via=$("$vh" nodedev-reset $nic 2>&1) && rc_via=0 || rc_via=$?
alone=$(VIRT_HOSTDEV_SOCKET= "$vh" nodedev-reset $nic 2>&1) && rc_alone=0 || rc_alone=$?
echo "$via"
tb_assert_eq "$rc_alone" "$rc_via" "status of nodedev-reset through the daemon"
[[ $via == "$alone" ]] || tb_fail "nodedev-reset through the daemon differs: $(diff <(echo "$alone") <(echo "$via"))"
tb_assert_eq $((r + 1)) "$(requests)" "requests logged after the reset"

echo "== a raw unbind, then a bind, each seen by the next query"
echo $peer >/sys/bus/pci/drivers/e1000/unbind
if "$vh" nodedev-dumpxml $peer | grep -q "<driver>"; then
    tb_fail "the daemon still shows a driver on $peer right after its unbind"
fi
same kept nodedev-dumpxml $peer
echo $peer >/sys/bus/pci/drivers/e1000/bind
"$vh" nodedev-dumpxml $peer | grep -q "<name>e1000</name>" ||
    tb_fail "the daemon does not show $peer on e1000 right after its bind"

echo "== a device removed and found again by a rescan"
echo 1 >/sys/bus/pci/devices/$peer/remove
out=$("$vh" nodedev-list)
[[ $out != *pci_0000_01_02_0* ]] ||
    tb_fail "the daemon still lists $peer right after its removal"
same kept nodedev-list
echo 1 >/sys/bus/pci/rescan
tb_wait_until 30 "$peer back after the rescan" test -e /sys/bus/pci/devices/$peer/driver
"$vh" nodedev-list | grep -q pci_0000_01_02_0 ||
    tb_fail "the daemon does not list $peer after the rescan"
same kept nodedev-dumpxml --all

echo "== what the daemon does not answer runs in virt-hostdev-cli"
n=$(requests)
"$vh" nodedev-info $nic >/dev/null
"$vh" iommu-groups >/dev/null
"$vh" who-holds $nic >/dev/null
tb_assert_eq "$n" "$(requests)" "requests logged after nodedev-info, iommu-groups and who-holds"
# Another root (the same tree by another name): the child reads it itself.
same kept --sysfs-root /sys/ nodedev-list
same kept nodedev-dumpxml --all --sysfs-root /sys/

echo "== timing, for information (not asserted)"
usecs() { echo "${EPOCHREALTIME/./}"; }
for i in 1 2 3; do
    s=$(usecs); "$vh" nodedev-dumpxml --all >/dev/null; e=$(usecs)
    s2=$(usecs); VIRT_HOSTDEV_SOCKET= "$vh" nodedev-dumpxml --all >/dev/null; e2=$(usecs)
    echo "round $i: through the daemon $(((e - s) / 1000)) ms, alone $(((e2 - s2) / 1000)) ms"
done

echo "== SIGTERM: the daemon leaves, and takes its socket"
kill -TERM $daemon
wait $daemon || tb_fail "virt-hostdevd exited with $? on SIGTERM"
[[ ! -e $sock ]] || tb_fail "$sock outlived the daemon"
"$vh" nodedev-list | grep -q pci_0000_01_01_0 ||
    tb_fail "virt-hostdev does not answer alone once the daemon is gone"
tail -n 5 "$log"
echo "PASS: virt-hostdevd"
