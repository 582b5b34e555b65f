#!/usr/bin/env bash
# test-completion.sh: the bash completion (tools/virt-hostdev.bash) against
# the built virt-hostdev and a fake sysfs tree, as bash calls it: COMP_LINE,
# COMP_POINT, COMP_WORDS and COMP_CWORD set, then _virt_hostdev, then
# COMPREPLY compared with what it must be.  TAP output.
#
#   test-completion.sh COMPLETION-SCRIPT    (VH_CLI: the virt-hostdev binary)
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -uo pipefail

script=${1:?usage: test-completion.sh COMPLETION-SCRIPT}
: "${VH_CLI:?VH_CLI must name the virt-hostdev binary}"
script=$(realpath "$script")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vh-completion-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# virt-hostdev on PATH is a wrapper that logs every run, so that the test
# sees what the completion ran.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/virt-hostdev" <<EOF
#!/usr/bin/env bash
printf '%s\n' "\$*" >>"$tmp/runs.log"
exec "$VH_CLI" "\$@"
EOF
chmod +x "$tmp/bin/virt-hostdev"
PATH=$tmp/bin:$PATH

# Two fake sysfs trees: completion only reads the names in bus/pci/devices.
for d in 0000:00:03.0 0000:00:1f.2 0000:01:01.0 0000:01:02.0 junk; do
    mkdir -p "$tmp/sys/bus/pci/devices/$d"
done
mkdir -p "$tmp/other/bus/pci/devices/0000:05:00.0"
# Files for DOMAIN.xml arguments.
mkdir -p "$tmp/cwd/domains"
touch "$tmp/cwd/dom1.xml" "$tmp/cwd/dom2.xml" "$tmp/cwd/notes.txt"
cd "$tmp/cwd" || exit 1

# shellcheck source=/dev/null
source "$script"

n=0
failed=0

# Split @1 into words as readline does for COMP_WORDS: blanks separate,
# and a run of COMP_WORDBREAKS characters (':' '=' here) is a word.
split_words()
{
    local line=$1 word="" c i kind prev=""
    COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        case $c in
            ' ') kind=blank ;;
            [:=]) kind='break' ;;
            *) kind=word ;;
        esac
        if [[ $kind != "$prev" && -n $word ]]; then
            COMP_WORDS+=("$word")
            word=""
        fi
        [[ $kind != blank ]] && word+=$c
        prev=$kind
    done
    if [[ -n $word ]]; then
        COMP_WORDS+=("$word")
    fi
    if [[ $prev == blank || -z $line ]]; then
        COMP_WORDS+=("")
    fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
}

# complete LINE: runs the completion for the cursor at the end of LINE and
# leaves the sorted replies, one per line, in $got.
complete_line()
{
    COMP_LINE=$1
    COMP_POINT=${#1}
    split_words "$1"
    COMPREPLY=()
    _virt_hostdev
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | LC_ALL=C sort)
}

# check NAME LINE EXPECTED...: the replies for LINE are exactly EXPECTED.
check()
{
    local name=$1 line=$2 want
    shift 2
    complete_line "$line"
    want=$(printf '%s\n' "$@" | sed '/^$/d' | LC_ALL=C sort)
    n=$((n + 1))
    if [[ $got == "$want" ]]; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        echo "# line:     '$line'"
        echo "# expected: $(echo "$want" | tr '\n' ' ')"
        echo "# got:      $(echo "$got" | tr '\n' ' ')"
        failed=$((failed + 1))
    fi
}

# ok NAME COMMAND...: a plain assertion.
ok()
{
    local name=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $name"
    else
        echo "not ok $n - $name"
        failed=$((failed + 1))
    fi
}

vh="virt-hostdev --sysfs-root=$tmp/sys"
unset VIRT_HOSTDEV_SYSFS_ROOT

# --- verbs, asked from the binary
mapfile -t verbs < <("$VH_CLI" help --verbs | cut -f1)
ok "the binary lists its verbs" test "${#verbs[@]}" -ge 17
check "verbs" "virt-hostdev " "${verbs[@]}"
check "verbs with a prefix" "virt-hostdev nodedev-re" \
    nodedev-reattach nodedev-reset
check "verbs after a global option" "$vh who" who-holds
check "verbs after a global option's separate value" \
    "virt-hostdev --state-dir $tmp i" iommu-groups install-hook
check "no verb matches" "virt-hostdev frob"
check "help VERB" "virt-hostdev help device-" device-info device-selftest

# --- global options
check "global options" "virt-hostdev --" \
    --version --sysfs-root= --proc-root= --state-dir= --help
check "a global option with a prefix" "virt-hostdev --s" --sysfs-root= --state-dir=
check "a global option's directory value" "virt-hostdev --sysfs-root=$tmp/ot" \
    "$tmp/other/"
check "a global option's directory value, separate" \
    "virt-hostdev --state-dir $tmp/cw" "$tmp/cwd/"

# --- a verb's options, from the binary
check "a verb's options" "virt-hostdev nodedev-detach --" \
    --driver= --owner= --hold-driver= --no-hold --dry-run --force \
    --sysfs-root= --proc-root= --state-dir= --help
check "a verb's options with a prefix" "virt-hostdev nodedev-detach --d" \
    --driver= --dry-run
check "another verb's options" "virt-hostdev nodedev-list --" \
    --cap= --tree --json --sysfs-root= --proc-root= --state-dir= --help
check "options after a device" "$vh nodedev-info 0000:01:01.0 --j" --json
check "a verb without options of its own" "virt-hostdev recover --" \
    --sysfs-root= --proc-root= --state-dir= --help

# --- option values
check "--driver values" "$vh nodedev-detach --driver " vfio stub
check "--driver=VALUE" "$vh nodedev-detach --driver=s" stub
check "--hold-driver values" "$vh nodedev-detach --hold-driver " stub vfio
check "--pass values" "$vh device-selftest 0000:00:03.0 --pass " inherit socket
check "--pass=VALUE" "$vh device-selftest --pass=i" inherit
check "--owner has no values to offer" "$vh nodedev-detach --owner "
check "install-hook --dir" "virt-hostdev install-hook --dir dom" "domains/"

# --- devices: libvirt names and addresses, from --sysfs-root's tree
check "devices" "$vh nodedev-info " \
    0000:00:03.0 pci_0000_00_03_0 0000:00:1f.2 pci_0000_00_1f_2 \
    0000:01:01.0 pci_0000_01_01_0 0000:01:02.0 pci_0000_01_02_0
check "devices by libvirt name with a prefix" "$vh nodedev-detach pci_0000_01" \
    pci_0000_01_01_0 pci_0000_01_02_0
# Bash replaces only what follows the last ':' of the word: the replies
# are cut there ("0000:01:0" + "1.0" ...).
check "devices by address with a prefix" "$vh nodedev-detach 0000:01:0" \
    01.0 02.0
check "devices by address, after the domain" "$vh nodedev-reset 0000:0" \
    00:03.0 00:1f.2 01:01.0 01:02.0
check "devices after an option's value" \
    "$vh nodedev-detach --driver vfio --owner vm1 pci_0000_00" \
    pci_0000_00_03_0 pci_0000_00_1f_2
check "several devices" "$vh nodedev-reattach 0000:00:03.0 pci_0000_01_02" \
    pci_0000_01_02_0
check "devices from a separate --sysfs-root" \
    "virt-hostdev --sysfs-root $tmp/other who-holds " 0000:05:00.0 pci_0000_05_00_0
check "--sysfs-root after the verb" \
    "virt-hostdev device-info --sysfs-root=$tmp/other p" pci_0000_05_00_0
check "a quoted --sysfs-root" \
    "virt-hostdev --sysfs-root='$tmp/other' nodedev-info p" pci_0000_05_00_0
export VIRT_HOSTDEV_SYSFS_ROOT=$tmp/other
check "devices from \$VIRT_HOSTDEV_SYSFS_ROOT" "virt-hostdev nodedev-info p" \
    pci_0000_05_00_0
check "the line's --sysfs-root wins over the environment" \
    "$vh nodedev-info pci_0000_01_01" pci_0000_01_01_0
unset VIRT_HOSTDEV_SYSFS_ROOT
check "no device argument after the last" "$vh nodedev-info 0000:00:03.0 "
check "nodedev-dumpxml DEVICE" "$vh nodedev-dumpxml 0000:00:1" 1f.2

# --- files for DOMAIN.xml, literal parameters
check "prepare DOMAIN.xml" "virt-hostdev prepare d" dom1.xml dom2.xml domains/
check "release DOMAIN.xml" "virt-hostdev release --dry-run n" notes.txt
check "domxml-to-native FORMAT" "virt-hostdev domxml-to-native " qemu-argv
check "domxml-to-native qemu-argv DOMAIN.xml" \
    "virt-hostdev domxml-to-native --legacy qemu-argv dom" dom1.xml dom2.xml domains/
check "hook qemu" "virt-hostdev hook " qemu
check "no argument where the verb takes none" "virt-hostdev recover "

# --- read only: the completion ran nothing but the two listings
ok "the completion ran the binary" test -s "$tmp/runs.log"
bad=$(grep -Ev '^help --(verbs|options( [a-z-]+)?)$' "$tmp/runs.log")
ok "the completion ran only help --verbs and help --options" test -z "$bad"
[[ -z $bad ]] || echo "# other runs: $bad"

echo "1..$n"
exit $((failed > 0))
