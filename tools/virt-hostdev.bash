# bash completion for virt-hostdev                          -*- shell-script -*-
#
# Installed by meson as bash-completion's completions/virt-hostdev.  The
# verbs and each verb's options come from the program itself
# (`virt-hostdev help --verbs`, `help --options [VERB]`), so a new verb or
# option completes without editing this file.  Devices come from
# <sysfs-root>/bus/pci/devices, the --sysfs-root on the line winning over
# $VIRT_HOSTDEV_SYSFS_ROOT and /sys.  It runs nothing but those two
# listings: no verb that reads the registry, let alone one that changes a
# device.
#
# It needs nothing from the bash-completion package.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

# The words of the line up to the cursor, split on blanks only (bash splits
# COMP_WORDS at ':' and '=' too, which cuts 0000:01:02.0 and --opt=VALUE
# apart).  Sets the caller's `words` and `cword`.
_virt_hostdev_words()
{
    local line=${COMP_LINE:0:COMP_POINT}

    read -r -a words <<<"$line"
    if [[ -z $line || $line == *[[:blank:]] ]]; then
        words+=("")
    fi
    cword=$((${#words[@]} - 1))
}

# Completes @cur from the words @2...: sets COMPREPLY to those that start
# with it.  Bash replaces only the text after the last ':' or '=' of the
# word (both are in COMP_WORDBREAKS), so each reply is cut the same way.
_virt_hostdev_reply()
{
    local cur=$1 cand keep=""
    shift

    if [[ $cur == *[:=]* && $COMP_WORDBREAKS == *:* ]]; then
        keep=${cur%"${cur##*[:=]}"}
    fi
    for cand in "$@"; do
        if [[ $cand == "$cur"* ]]; then
            COMPREPLY+=("${cand#"$keep"}")
        fi
    done
}

# File or directory names starting with @2 (@1 "-d": directories only),
# for replies that bash completes as file names.
_virt_hostdev_files()
{
    local kind=$1 cur=$2 f
    local -a found

    if [[ $kind == -d ]]; then
        mapfile -t found < <(compgen -d -- "$cur")
    else
        mapfile -t found < <(compgen -f -- "$cur")
    fi
    for f in "${found[@]}"; do
        [[ -d $f ]] && f+=/
        COMPREPLY+=("$f")
    done
    compopt -o filenames -o nospace 2>/dev/null
}

# The PCI devices below @1 (a sysfs root), as libvirt names them and as
# addresses, starting with @2.
_virt_hostdev_devices()
{
    local root=$1 cur=$2 path addr
    local -a cands=()

    for path in "$root"/bus/pci/devices/*; do
        addr=${path##*/}
        [[ $addr =~ ^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]] || continue
        cands+=("$addr" "pci_${addr//[:.]/_}")
    done
    _virt_hostdev_reply "$cur" "${cands[@]}"
}

# Completes the value @2 of an option whose value looks like @1:
# "vfio|stub" (the choices), DIR, FILE or PATH; nothing for the others
# (NAME, UID, BYTES).
_virt_hostdev_value()
{
    local arg=$1 cur=$2
    local -a choices

    case $arg in
        *'|'*)
            IFS='|' read -r -a choices <<<"$arg"
            _virt_hostdev_reply "$cur" "${choices[@]}"
            ;;
        DIR)
            _virt_hostdev_files -d "$cur"
            ;;
        FILE | PATH)
            _virt_hostdev_files -f "$cur"
            ;;
    esac
}

_virt_hostdev()
{
    local -a words verbs opts vopts args
    local cword cmd cur i w verb="" verbidx=0 params="" name arg
    local sysfs=${VIRT_HOSTDEV_SYSFS_ROOT:-/sys}
    local -A optarg=() verbparams=()

    COMPREPLY=()
    _virt_hostdev_words
    cur=${words[cword]}
    cmd=${words[0]}
    # The program being completed; a leading ~ is the shell's business.
    [[ $cmd == \~/* ]] && cmd=$HOME/${cmd#"~/"}
    if ! type -P "$cmd" >/dev/null 2>&1 && [[ ! -x $cmd ]]; then
        return 0
    fi

    # Global options: the ones taken before the verb, and after it too
    # (except --version).
    while IFS=$'\t' read -r name arg; do
        [[ $name == --* ]] || continue
        opts+=("$name")
        optarg[$name]=$arg
    done < <("$cmd" help --options 2>/dev/null)
    while IFS=$'\t' read -r name arg; do
        [[ -n $name ]] || continue
        verbs+=("$name")
        verbparams[$name]=$arg
    done < <("$cmd" help --verbs 2>/dev/null)

    # Find the verb: the first word that is neither an option nor the value
    # of one.  Note the last --sysfs-root before the cursor.
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            --sysfs-root=*)
                sysfs=${w#--sysfs-root=}
                ;;
            --sysfs-root)
                ((i + 1 < cword)) && sysfs=${words[i + 1]}
                ;;
        esac
        if [[ -z $verb && $w != -* ]]; then
            verb=$w
            verbidx=$i
        fi
        if [[ $w == --* && $w != *=* && -n ${optarg[$w]-} ]]; then
            ((i++))
        fi
    done
    # The line's words are as typed: drop the quotes around the root.
    sysfs=${sysfs//[\'\"]/}
    [[ $sysfs == \~/* ]] && sysfs=$HOME/${sysfs#"~/"}

    if [[ -n $verb ]]; then
        params=${verbparams[$verb]-}
        while IFS=$'\t' read -r name arg; do
            [[ $name == --* ]] || continue
            vopts+=("$name")
            optarg[$name]=$arg
        done < <("$cmd" help --options "$verb" 2>/dev/null)
    fi

    # The value of an option: --opt=VALUE, or VALUE after --opt.
    if [[ $cur == --*=* ]]; then
        name=${cur%%=*}
        if [[ -n ${optarg[$name]-} ]]; then
            _virt_hostdev_value "${optarg[$name]}" "${cur#*=}"
        fi
        return 0
    fi
    if ((cword > 1)); then
        w=${words[cword - 1]}
        if [[ $w == --* && $w != *=* && -n ${optarg[$w]-} ]]; then
            _virt_hostdev_value "${optarg[$w]}" "$cur"
            return 0
        fi
    fi

    if [[ -z $verb ]]; then
        if [[ $cur == -* ]]; then
            _virt_hostdev_options "$cur" "${opts[@]}" --help
        else
            _virt_hostdev_reply "$cur" "${verbs[@]}"
        fi
        return 0
    fi
    if [[ $cur == -* ]]; then
        for w in "${opts[@]}"; do
            [[ $w == --version ]] || vopts+=("$w")
        done
        _virt_hostdev_options "$cur" "${vopts[@]}" --help
        return 0
    fi

    # A positional argument: which one, after the verb, skipping options
    # and their values.
    local n=0
    for ((i = verbidx + 1; i < cword; i++)); do
        w=${words[i]}
        if [[ $w == -* ]]; then
            [[ $w == --* && $w != *=* && -n ${optarg[$w]-} ]] && ((i++))
            continue
        fi
        ((n++))
    done
    # "DEVICE | --all" is one parameter with alternatives.
    params=${params// | /|}
    read -r -a args <<<"$params"
    if ((n >= ${#args[@]})); then
        ((${#args[@]} > 0)) && [[ ${args[-1]} == *... ]] || return 0
        n=$((${#args[@]} - 1))
    fi
    w=${args[n]}
    w=${w#[}
    w=${w%]}
    w=${w%...}
    local -a alts lits=()
    IFS='|' read -r -a alts <<<"$w"
    for arg in "${alts[@]}"; do
        case $arg in
            DEVICE)
                _virt_hostdev_devices "$sysfs" "$cur"
                ;;
            VERB)
                _virt_hostdev_reply "$cur" "${verbs[@]}"
                ;;
            *.xml)
                _virt_hostdev_files -f "$cur"
                ;;
            -*)
                # an option (--all) or "-" for standard input
                [[ $arg == - ]] && lits+=("$arg")
                ;;
            *[[:upper:]]*)
                # DOMAIN, OPERATION: nothing to offer
                ;;
            *)
                lits+=("$arg")
                ;;
        esac
    done
    ((${#lits[@]})) && _virt_hostdev_reply "$cur" "${lits[@]}"
    return 0
}

# Options from @2... starting with @1: those that take a value (the
# caller's optarg) end in '=' and keep the cursor there.
_virt_hostdev_options()
{
    local cur=$1 o
    local -a cands=()
    shift

    for o in "$@"; do
        if [[ -n ${optarg[$o]-} ]]; then
            cands+=("$o=")
        else
            cands+=("$o")
        fi
    done
    _virt_hostdev_reply "$cur" "${cands[@]}"
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace 2>/dev/null
    fi
}

complete -F _virt_hostdev virt-hostdev
