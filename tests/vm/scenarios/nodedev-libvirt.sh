#!/usr/bin/env bash
# virt-hostdev's node-device XML against libvirt 9.0's, device by device, on
# a kernel with a real IOMMU:
#   - ours validates against libvirt's nodedev.rng;
#   - it is libvirt's XML, except for the documented difference
#     (docs/formatnode-pci.rst): IOMMU group members are sorted by address;
#   - virt-manager's virtinst and Nova's config classes parse both to the
#     same fields;
#   - after `virsh nodedev-detach` of 01:01.0 alone, iommu-groups names
#     01:02.0 (e1000) as what blocks the group.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

vh=${VIRT_HOSTDEV_BUILD_DIR:?the build directory}/tools/virt-hostdev
rng=/usr/share/libvirt/schemas/nodedev.rng
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
tb_assert_file "$vh" "the built virt-hostdev"
tb_assert_file "$rng" "libvirt's node-device schema"

tb_start_libvirt
virsh() { command virsh -q -c qemu:///system "$@"; }

# Sort the <address> lines inside <iommuGroup>: the one kept difference.
normalize() {
    awk '/<iommuGroup/ { print; grp = 1; n = 0; next }
         grp && /<\/iommuGroup>/ {
             cmd = "sort"; for (i = 1; i <= n; i++) print lines[i] | cmd
             close(cmd); grp = 0; print; next }
         grp { lines[++n] = $0; next }
         /^$/ { next }
         { print }' "$1"
}

names=$(virsh nodedev-list --cap pci)
ours_names=$("$vh" nodedev-list --cap pci)
tb_assert_eq "$names" "$ours_names" "PCI node devices: virsh nodedev-list vs ours"

"$vh" nodedev-dumpxml --all > "$work/all.xml"
count=0
pairs=()
for name in $names; do
    virsh nodedev-dumpxml "$name" > "$work/$name.libvirt.xml"
    "$vh" nodedev-dumpxml "$name" > "$work/$name.ours.xml"
    xmllint --noout --relaxng "$rng" "$work/$name.ours.xml" 2> "$work/rng.log" ||
        tb_fail "$name: our XML does not validate: $(cat "$work/rng.log")"
    if ! diff -u <(normalize "$work/$name.libvirt.xml") \
                 <(normalize "$work/$name.ours.xml") > "$work/diff"; then
        cat "$work/diff" >&2
        tb_fail "$name: our XML differs from libvirt's beyond the documented differences"
    fi
    # The same device inside nodedev-dumpxml --all, one level deeper.
    awk -v n="    <name>$name</name>" '
        /^  <device>$/ { buf = ""; keep = 0 }
        { buf = buf substr($0, 3) "\n" }
        $0 == n { keep = 1 }
        /^  <\/device>$/ && keep { printf "%s", buf }' "$work/all.xml" \
        > "$work/$name.all.xml"
    diff -u <(sed '/^$/d' "$work/$name.ours.xml") <(sed '/^$/d' "$work/$name.all.xml") >&2 ||
        tb_fail "$name: --all differs from the single-device XML"
    pairs+=("$work/$name.libvirt.xml" "$work/$name.ours.xml")
    count=$((count + 1))
    echo "$name: same XML as libvirt's (up to group member order), valid"
done
echo "== virt-manager's virtinst and Nova parse both to the same fields"
"$here/nodedev-consumers.py" "${pairs[@]}" ||
    tb_fail "virtinst or Nova parse our XML differently from libvirt's"
echo "compared $count devices with libvirt 9.0"

echo "== virsh nodedev-detach pci_0000_01_01_0 (libvirt moves that device only)"
modprobe vfio-pci
virsh nodedev-detach pci_0000_01_01_0
"$vh" iommu-groups 0000:01:01.0
blockers=$("$vh" iommu-groups --json 0000:01:01.0 |
           /usr/bin/python3 -c 'import json,sys; g=json.load(sys.stdin)[0]; print(g["viable"], [(b["address"], b["driver"]) for b in g["blockers"]])')
tb_assert_eq "False [('0000:01:02.0', 'e1000')]" "$blockers" \
    "viability and blockers of the group of 01:01.0 after libvirt detached it alone"
echo "PASS: nodedev-libvirt"
