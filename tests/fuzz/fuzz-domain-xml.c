/*
 * fuzz-domain-xml.c: libFuzzer target for the domain XML hostdev parser
 *
 * The input is a libvirt domain XML document for vh_domain_def_parse(), as
 * `virt-hostdev domxml-to-native` gets it.  What parses goes on to what
 * the CLI does with it: the memlock rule, the controller lookup of every
 * hostdev's guest bus, and the -device arguments in both syntaxes, each
 * quoted for a shell.  A refusal must be one line in VH_QEMU_ERROR.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "fuzz.domain-xml"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-domain.h"
#include "vh-error.h"
#include "vh-qemu-argv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void G_GNUC_NORETURN
fuzz_fail(const char *what, const GError *err)
{
    fprintf(stderr, "fuzz-domain-xml: %s: %s\n", what,
            err ? err->message : "(no error)");
    abort();
}

/* A refusal: one line, in the QEMU layer's domain. */
static void
fuzz_check_refusal(const GError *err)
{
    if (!err || err->domain != VH_QEMU_ERROR || strchr(err->message, '\n'))
        fuzz_fail("refusal that is not one VH_QEMU_ERROR line", err);
}

static void
fuzz_args(VhDomainDef *def, VhQemuSyntax syntax)
{
    g_autoptr(GPtrArray) args = NULL;
    g_autoptr(GError) err = NULL;
    guint i;

    if (!(args = vh_qemu_device_args(def, syntax, &err))) {
        fuzz_check_refusal(err);
        return;
    }
    for (i = 0; i < args->len; i++) {
        g_autofree char *quoted = vh_qemu_shell_quote(args->pdata[i]);

        if (!quoted || !*quoted)
            fuzz_fail("empty shell quoting", NULL);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(VhDomainDef) def = NULL;
    g_autoptr(GError) err = NULL;
    guint i;

    if (!(def = vh_domain_def_parse((const char *) data, size, &err))) {
        fuzz_check_refusal(err);
        return 0;
    }
    (void) vh_domain_def_memlock_bytes(def);
    for (i = 0; i < def->hostdevs->len; i++) {
        const VhDomainHostdev *h = def->hostdevs->pdata[i];

        if (h->has_guest_address)
            (void) vh_domain_def_find_controller(def, h->guest.bus);
    }
    /* JSON first (vh_qemu_assign() fills in guest addresses), then the
     * legacy syntax on the assigned definition: assign is idempotent. */
    fuzz_args(def, VH_QEMU_SYNTAX_JSON);
    fuzz_args(def, VH_QEMU_SYNTAX_LEGACY);
    (void) vh_domain_def_memlock_bytes(def);
    return 0;
}
