#!/usr/bin/env bash
# doctor, the read-only preflight, on a real kernel with an emulated VT-d
# IOMMU (interrupt remapping on):
#   - the host checks find the IOMMU, its groups and interrupt remapping;
#   - a domain with the edu device (alone in its group) is green, exit 0;
#   - a domain with 01:01.0 lists 01:02.0 (e1000) as the peer to hold;
#   - under a tiny RLIMIT_MEMLOCK (prlimit) the memlock check fails and
#     names the size libvirt's rule needs;
#   - guest RAM past the IOMMU's 39-bit address width fails;
#   - a group prepared for one domain fails the owner check of another;
#   - doctor moves no device and writes no state.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
edu=0000:00:03.0
nic=0000:01:01.0
peer=0000:01:02.0
work=$(mktemp -d)
export VIRT_HOSTDEV_TIMEOUT_MS=5000
tb_assert_file "$vh" "the built virt-hostdev"


# domain NAME MIB ADDR...: a domain XML with a managed <hostdev> per address.
domain() {
    local name=$1 mib=$2 a
    shift 2
    echo "<domain type='qemu'><name>$name</name><memory unit='MiB'>$mib</memory>"
    echo "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
    for a in "$@"; do
        IFS=':.' read -r d b s f <<<"$a"
        echo "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
        echo "<address domain='0x$d' bus='0x$b' slot='0x$s' function='0x$f'/>"
        echo "</source></hostdev>"
    done
    echo "</devices></domain>"
}
domain vm1 64 $edu >"$work/edu.xml"
domain vm2 64 $nic >"$work/nic.xml"
domain vm3 64 $peer >"$work/peer.xml"
domain big $((1024 * 1024)) $edu >"$work/big.xml"

# doctor ARGS...: run it, keep stdout in $out and the exit status in $rc.
doctor() {
    local err=$work/err
    rc=0
    out=$("$@" 2>"$err") || rc=$?
    echo "$out"
    [[ $rc == 0 ]] || echo "stderr: $(cat "$err")"
}
expect() {
    [[ $out == *"$1"* ]] || tb_fail "doctor output lacks '$1'"
}

start=$(tb_drivers_of / $edu $nic $peer)
tb_assert_eq "/e1000/e1000" "$start" "drivers at boot"

echo "== host checks"
doctor "$vh" doctor
tb_assert_eq 0 "$rc" "exit status of doctor without a domain"
expect "OK    host/iommu: IOMMU enabled: "
expect "OK    host/interrupt-remapping: interrupt remapping is enabled"
expect "IR (bit 3, interrupt remapping) supported"
ngroups=$(ls /sys/kernel/iommu_groups | wc -l)
expect "/sys/kernel/iommu_groups: $ngroups groups"
doctor "$vh" doctor --json
tb_assert_eq 0 "$rc" "exit status of doctor --json"
tb_assert_eq "True ok" "$(python3 -c 'import json, sys
r = json.loads(sys.argv[1])
c = {x["id"]: x for x in r["checks"]}
print(r["ok"], c["host/interrupt-remapping"]["status"])' "$out")" "doctor --json: ok and interrupt remapping"

echo "== the edu device: green"
doctor prlimit --memlock=unlimited:unlimited "$vh" doctor "$work/edu.xml"
tb_assert_eq 0 "$rc" "exit status of doctor for the edu domain"
expect "OK    hostdev/$edu/group: IOMMU group $(tb_group_of $edu): no peer to hold"
expect "OK    hostdev/$edu/host-critical: "
expect "OK    domain/memlock: "
expect "OK    domain/iova: guest RAM (64.0 MiB) fits the IOMMU's 39-bit address width"
expect " 0 fail, "

echo "== 01:01.0: 01:02.0 is to be held"
doctor prlimit --memlock=unlimited:unlimited "$vh" doctor "$work/nic.xml"
tb_assert_eq 0 "$rc" "exit status of doctor for 01:01.0"
expect "OK    hostdev/$nic/group: IOMMU group $(tb_group_of $nic): prepare holds $peer (e1000) on pci-stub"
expect "$peer: e1000 -> pci-stub (held)"

echo "== a tiny RLIMIT_MEMLOCK names the size needed"
doctor prlimit --memlock=65536:65536 "$vh" doctor "$work/edu.xml"
tb_assert_eq 1 "$rc" "exit status of doctor under a 64 KiB memlock limit"
expect "FAIL  domain/memlock: QEMU needs 1140850688 bytes (1.1 GiB) of locked memory; the limit is 65536 bytes"
expect "prlimit --memlock=1140850688:1140850688"
doctor prlimit --memlock=65536:65536 "$vh" doctor --libvirt "$work/edu.xml"
tb_assert_eq 0 "$rc" "exit status of doctor --libvirt under a 64 KiB memlock limit"
expect "WARN  domain/memlock: "

echo "== guest RAM past the IOMMU's address width"
doctor prlimit --memlock=unlimited:unlimited "$vh" doctor "$work/big.xml"
tb_assert_eq 1 "$rc" "exit status of doctor for a 1 TiB guest"
expect "FAIL  domain/iova: guest RAM ends at 0x"
expect "39-bit address width"

echo "== doctor changed nothing"
tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers after doctor"
[[ ! -e /run/virt-hostdev/lock ]] || tb_fail "doctor created /run/virt-hostdev/lock"

echo "== a group prepared for vm2 fails vm3's owner check"
"$vh" prepare "$work/nic.xml"
doctor prlimit --memlock=unlimited:unlimited "$vh" doctor "$work/peer.xml"
tb_assert_eq 1 "$rc" "exit status of doctor for vm3 while vm2 owns the group"
expect "FAIL  hostdev/$peer/owner: IOMMU group $(tb_group_of $peer) belongs to vm2"
expect "OK    host/dev-vfio: /dev/vfio/vfio exists"
doctor prlimit --memlock=unlimited:unlimited "$vh" doctor "$work/nic.xml"
tb_assert_eq 0 "$rc" "exit status of doctor for vm2, which owns its group"
expect "OK    hostdev/$nic/owner: IOMMU group $(tb_group_of $nic) is already vm2's (prepared)"
"$vh" release "$work/nic.xml"
tb_assert_eq "$start" "$(tb_drivers_of / $edu $nic $peer)" "drivers after release"

echo "doctor: all checks passed"
