/*
 * virt-hostdev: group-aware PCI device assignment, virsh-style verbs
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
