/*
 * fuzz-pci-address.c: libFuzzer target for the PCI address parser
 *
 * The input, up to its first NUL, goes to vh_pci_address_parse().  What
 * parses must survive a round trip through every form the parser accepts:
 * the kernel's address, libvirt's node-device name and, in domain 0, the
 * short BUS:SLOT.FUNCTION; each must re-parse to the same address, and the
 * formatted strings must be the ones the parser's contract promises.  A
 * violation aborts, which libFuzzer reports as a crash with the input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "fuzz.pci-address"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-error.h"
#include "vh-pci-address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void G_GNUC_NORETURN
fuzz_fail(const char *input, const char *what, const VhPciAddress *addr)
{
    fprintf(stderr, "fuzz-pci-address: '%s': %s (%x:%x:%x.%x)\n", input, what,
            addr->domain, addr->bus, addr->slot, addr->function);
    abort();
}

/* @text re-parses to @addr, or the target aborts naming @what. */
static void
fuzz_reparse(const char *input, const char *text, const VhPciAddress *addr,
             const char *what)
{
    g_autoptr(GError) err = NULL;
    VhPciAddress again;

    if (!vh_pci_address_parse(text, &again, &err))
        fuzz_fail(input, what, addr);
    /* Field by field: the struct has a padding byte. */
    if (!vh_pci_address_equal(&again, addr) ||
        vh_pci_address_compare(&again, addr) != 0 ||
        again.domain != addr->domain || again.bus != addr->bus ||
        again.slot != addr->slot || again.function != addr->function)
        fuzz_fail(input, what, addr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *input = g_strndup((const char *) data, size);
    g_autofree char *str = NULL;
    g_autofree char *shortform = NULL;
    g_autoptr(GError) err = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char name[VH_PCI_ADDRESS_BUFLEN];
    VhPciAddress addr = { 0 };
    VhPciAddress before;

    memset(&before, 0xa5, sizeof(before));
    addr = before;
    if (!vh_pci_address_parse(input, &addr, &err)) {
        /* Refused: one line, in its domain, and ret_addr untouched. */
        if (!err || err->domain != VH_ADDRESS_ERROR ||
            err->code != VH_ADDRESS_ERROR_INVALID ||
            strchr(err->message, '\n'))
            fuzz_fail(input, "refusal without a one-line invalid error", &addr);
        /* Nothing was written: the padding byte too is as it was. */
        if (memcmp(&addr, &before, sizeof(addr)) != 0)
            fuzz_fail(input, "ret_addr set on failure", &addr);
        return 0;
    }
    if (err)
        fuzz_fail(input, "error set on success", &addr);
    if (addr.slot > 0x1f || addr.function > 7)
        fuzz_fail(input, "slot or function out of range", &addr);

    vh_pci_address_format(&addr, buf);
    fuzz_reparse(input, buf, &addr, "kernel form does not round-trip");
    vh_pci_address_nodedev_name(&addr, name);
    if (!g_str_has_prefix(name, "pci_"))
        fuzz_fail(input, "node-device name without pci_", &addr);
    fuzz_reparse(input, name, &addr, "node-device name does not round-trip");

    str = vh_pci_address_to_string(&addr);
    if (!g_str_equal(str, buf))
        fuzz_fail(input, "to_string differs from format", &addr);
    if (addr.domain == 0) {
        shortform = g_strdup_printf("%02x:%02x.%x", addr.bus, addr.slot,
                                    addr.function);
        fuzz_reparse(input, shortform, &addr, "short form does not round-trip");
    }
    return 0;
}
