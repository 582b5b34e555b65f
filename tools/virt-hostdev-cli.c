/*
 * virt-hostdev-cli: group-aware PCI device assignment, virsh-style verbs
 *
 * The real command line.  Users run virt-hostdev (virt-hostdev.c), which
 * asks virt-hostdevd for node-device queries and runs this program, with
 * the same arguments, for everything else.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <locale.h>

#include "vh-cli.h"

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    return vh_cli_run(argc, argv, NULL);
}
