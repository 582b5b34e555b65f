#!/usr/bin/python3
"""Parse pairs of node-device XML documents (libvirt's and ours for the
same device) with the code of two consumers, virt-manager's virtinst
(virtinst.NodeDevice) and OpenStack Nova
(nova.virt.libvirt.config.LibvirtConfigNodeDevice), and exit 1 naming each
field that comes out different.

    nodedev-consumers.py LIBVIRT.xml OURS.xml [LIBVIRT.xml OURS.xml ...]

One process for all pairs: importing Nova takes seconds under TCG.

Runs with Debian's python3 (the packages virtinst and python3-nova install
into its dist-packages)."""
import sys

sys.path.insert(0, "/usr/share/virt-manager")

from nova.virt.libvirt import config as vconfig  # noqa: E402
from virtinst import NodeDevice  # noqa: E402
from virtinst.xmlbuilder import XMLProperty  # noqa: E402

NOVA_SKIP = {"root_name", "ns_prefix", "ns_uri"}


def virtinst_fields(xml):
    dev = NodeDevice(None, parsexml=xml)
    fields = {}
    for cls in type(dev).__mro__:
        for name, value in vars(cls).items():
            if isinstance(value, XMLProperty) and name not in fields:
                fields[name] = getattr(dev, name)
    fields["devnodes"] = [(n.node_type, n.path) for n in dev.devnodes]
    fields["is_pci_sriov()"] = dev.is_pci_sriov()
    fields["is_pci_bridge()"] = dev.is_pci_bridge()
    return fields


def plain(value):
    """Nova's config objects as dicts and lists, for comparing."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if type(value).__module__.startswith("nova"):
        return {k: plain(v) for k, v in sorted(vars(value).items())
                if k not in NOVA_SKIP}
    return value


def nova_fields(xml):
    dev = vconfig.LibvirtConfigNodeDevice()
    dev.parse_str(xml)
    return plain(dev)


def differences(prefix, a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from differences(f"{prefix}.{key}", a.get(key), b.get(key))
    elif a != b:
        yield f"{prefix}: libvirt {a!r}, ours {b!r}"


def compare(theirs_path, ours_path):
    with open(theirs_path) as f:
        theirs = f.read()
    with open(ours_path) as f:
        ours = f.read()
    found = list(differences("virtinst", virtinst_fields(theirs),
                             virtinst_fields(ours)))
    found += list(differences("nova", nova_fields(theirs), nova_fields(ours)))
    # The parsers must have seen something: a name and PCI address fields.
    if virtinst_fields(ours)["name"] is None or \
            nova_fields(ours)["pci_capability"] is None:
        found.append("the parsers found no PCI device in our XML")
    for line in found:
        print(f"{ours_path}: {line}", file=sys.stderr)
    return not found


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    ok = True
    for theirs, ours in zip(args[0::2], args[1::2]):
        ok = compare(theirs, ours) and ok
    print(f"virtinst and Nova parsed {len(args) // 2} pairs: "
          f"{'same fields' if ok else 'DIFFERENT fields'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
