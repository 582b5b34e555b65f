#!/usr/bin/env bash
# Our golden outputs against libvirt 9.0 itself: for every
# tests/hostdevxml2argv/NAME.xml, `virsh domxml-to-native qemu-argv` in the
# test bed must print the same vfio-pci -device lines as NAME.args, and must
# refuse the XML when we do (NAME.err).  The known differences are listed
# below with their reason and are reported, not compared.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cases=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../hostdevxml2argv" && pwd)
work=$(mktemp -d)

declare -A skip=(
    # libvirt 9.0 has display/ramfb for mdev only and drops them for PCI;
    # we emit them as later libvirt does (docs/formatdomain-hostdev.rst).
    [display]="libvirt 9.0 ignores display on PCI hostdevs"
    [display-ramfb]="libvirt 9.0 ignores display/ramfb on PCI hostdevs"
    [err-ramfb-no-display]="libvirt 9.0 ignores ramfb on PCI hostdevs"
    # Deliberately stricter than libvirt.
    [err-bad-managed]="libvirt takes managed='true' silently as 'no'; we refuse it"
    [err-mdev]="libvirt assigns mdevs; virt-hostdev assigns PCI functions only"
    # What libvirt's domxml-to-native cannot do in the test bed.
    [auto-placement]="domxml-to-native opens /dev/net/tun for NICs (no tun module)"
    [teaming]="domxml-to-native opens /dev/net/tun for NICs (no tun module)"
    [everything]="domxml-to-native opens /dev/net/tun for NICs (no tun module)"
    [interface-hostdev]="libvirtd 9.0 crashes in domxml-to-native of <interface type='hostdev'>"
)

tb_start_libvirt

same=0 refused=0 skipped=0
for xml in "$cases"/*.xml; do
    name=$(basename "$xml" .xml)
    if [[ -n ${skip[$name]:-} ]]; then
        echo "skip $name: ${skip[$name]}"
        skipped=$((skipped + 1))
        continue
    fi
    # libvirt's domxml-to-native does not choose the vfio backend by itself
    # (virsh start does), and the test bed has TCG only: say both.
    python3 - "$xml" "$work/$name.xml" <<'PY'
import re, sys
s = open(sys.argv[1]).read().replace("type='kvm'", "type='qemu'")
if "<driver name=" not in s:
    s = re.sub(r"(<hostdev mode='subsystem' type='pci'[^>]*>|"
               r"<interface type='hostdev'[^>]*>)", r"\1<driver name='vfio'/>", s)
open(sys.argv[2], "w").write(s)
PY
    if out=$(virsh -c qemu:///system domxml-to-native qemu-argv "$work/$name.xml" 2>&1); then
        [[ -f $cases/$name.args ]] ||
            tb_fail "$name: libvirt accepts it, we refuse it: $(cat "$cases/$name.err")"
        lines=$(tr ' ' '\n' <<<"$out" | grep -A1 -- '^-device$' |
                grep 'vfio-pci' | sed 's/^/-device /' || true)
        tb_assert_eq "$(cat "$cases/$name.args")" "$lines" \
            "$name: our -device lines against libvirt 9.0's"
        echo "same $name"
        same=$((same + 1))
    else
        [[ -f $cases/$name.err ]] ||
            tb_fail "$name: libvirt refuses it ($(tail -1 <<<"$out")), we accept it"
        echo "refused by both $name: libvirt: $(grep -v '^ *$' <<<"$out" | tail -1)"
        refused=$((refused + 1))
    fi
done
echo "libvirt 9.0 agrees: $same same output, $refused refused by both, $skipped skipped"
echo "PASS"
