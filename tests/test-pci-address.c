/*
 * test-pci-address.c: parsing and formatting PCI addresses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-error.h"
#include "vh-pci-address.h"

typedef struct {
    const char *input;
    guint32 domain;
    guint8 bus, slot, function;
} GoodCase;

static const GoodCase good_cases[] = {
    { "0000:01:02.3", 0, 0x01, 0x02, 3 },
    { "01:02.3", 0, 0x01, 0x02, 3 },
    { "pci_0000_01_02_3", 0, 0x01, 0x02, 3 },
    { "0000:00:1f.7", 0, 0x00, 0x1f, 7 },
    { "0000:FF:1F.7", 0, 0xff, 0x1f, 7 },
    { "ffff:ff:1f.7", 0xffff, 0xff, 0x1f, 7 },
    { "10000:00:00.0", 0x10000, 0, 0, 0 },          /* VMD domains */
    { "pci_10000_e1_00_0", 0x10000, 0xe1, 0, 0 },
    { "0:1:2.3", 0, 1, 2, 3 },
};

typedef struct {
    const char *input;
    const char *problem;    /* must appear in the message */
} BadCase;

static const BadCase bad_cases[] = {
    { "", "empty" },
    { "0000:01:02.8", "function 8 is out of range" },
    { "0000:100:00.0", "bus 100 is out of range" },
    { "100:00.0", "bus 100 is out of range" },
    { "0000:01:20.0", "slot 20 is out of range" },
    { "100000000:00:00.0", "domain 100000000 is out of range" },
    { "00000000000000000000:00:00.0", "domain" },
    { "../../etc", "not a PCI address" },
    { "0000:01:02.3/../../..", "trailing characters after the function" },
    { "0000:01:02.3x", "trailing characters after the function" },
    { "0000:01:02.3 ", "trailing characters after the function" },
    { " 0000:01:02.3", "unexpected character ' ' in the domain" },
    { "0000:01:02", "the function is missing" },
    { "0000:01:02.", "the function is missing" },
    { "0000:01:.3", "the slot is missing" },
    { "0000::02.3", "the bus is missing" },
    { "0000:01:02:3", "unexpected character ':' after the slot" },
    { "0000:01:02.3:4", "trailing characters after the function" },
    { "pci_0000_01_02", "the function is missing" },
    { "pci_0000_01_02_", "the function is missing" },
    { "pci_0000_01_02_8", "function 8 is out of range" },
    { "pci_0000:01:02.3", "unexpected character ':' after the domain" },
    { "pci_", "the domain is missing" },
    { "pci_0000_01_02_3_4", "trailing characters after the function" },
    { "g000:01:02.3", "unexpected character 'g' in the domain" },
    { "0000:01:02.-1", "unexpected character '-' in the function" },
    { "0000:01:02.3\n", "trailing characters after the function" },
    { "-1:00.0", "unexpected character '-' in the bus" },
};

static void
test_parse_good(void)
{
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(good_cases); i++) {
        const GoodCase *c = &good_cases[i];
        g_autoptr(GError) err = NULL;
        VhPciAddress addr = { 0 };

        g_test_message("parsing '%s'", c->input);
        g_assert_true(vh_pci_address_parse(c->input, &addr, &err));
        g_assert_no_error(err);
        g_assert_cmpuint(addr.domain, ==, c->domain);
        g_assert_cmpuint(addr.bus, ==, c->bus);
        g_assert_cmpuint(addr.slot, ==, c->slot);
        g_assert_cmpuint(addr.function, ==, c->function);
    }
}

static void
test_parse_bad(void)
{
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        const BadCase *c = &bad_cases[i];
        g_autoptr(GError) err = NULL;
        /* ret_addr must not be touched on failure */
        VhPciAddress addr = { 0xdead, 0xbe, 0x0e, 0x5 };

        g_test_message("parsing '%s'", c->input);
        g_assert_false(vh_pci_address_parse(c->input, &addr, &err));
        g_assert_error(err, VH_ADDRESS_ERROR, VH_ADDRESS_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, c->problem));
        g_assert_null(strchr(err->message, '\n'));
        g_assert_cmpuint(addr.domain, ==, 0xdead);
        g_assert_cmpuint(addr.bus, ==, 0xbe);
        g_assert_cmpuint(addr.slot, ==, 0x0e);
        g_assert_cmpuint(addr.function, ==, 0x5);
    }
}

static void
test_message_quotes_input(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *longinput = g_strnfill(500, 'a');
    VhPciAddress addr;

    g_assert_false(vh_pci_address_parse("0000:01:02.8", &addr, &err));
    g_assert_cmpstr(err->message, ==,
                    "invalid PCI address '0000:01:02.8': function 8 is out of "
                    "range (0-7); expected DOMAIN:BUS:SLOT.FUNCTION such as "
                    "0000:01:02.0, BUS:SLOT.FUNCTION, or a node device name "
                    "such as pci_0000_01_02_0");
    g_clear_error(&err);

    /* Control characters are escaped, long input shortened. */
    g_assert_false(vh_pci_address_parse("bad\nline", &addr, &err));
    g_assert_null(strchr(err->message, '\n'));
    g_assert_nonnull(strstr(err->message, "'bad\\nline'"));
    g_clear_error(&err);

    g_assert_false(vh_pci_address_parse(longinput, &addr, &err));
    g_assert_cmpuint(strlen(err->message), <, 300);
}

static void
test_format(void)
{
    VhPciAddress addr = { .domain = 0, .bus = 1, .slot = 2, .function = 3 };
    VhPciAddress big = { .domain = 0x10000, .bus = 0xe1, .slot = 0x1f, .function = 7 };
    char buf[VH_PCI_ADDRESS_BUFLEN];
    g_autofree char *s = vh_pci_address_to_string(&addr);

    g_assert_cmpstr(vh_pci_address_format(&addr, buf), ==, "0000:01:02.3");
    g_assert_cmpstr(s, ==, "0000:01:02.3");
    g_assert_cmpstr(vh_pci_address_nodedev_name(&addr, buf), ==,
                    "pci_0000_01_02_3");
    g_assert_cmpstr(vh_pci_address_format(&big, buf), ==, "10000:e1:1f.7");
    g_assert_cmpstr(vh_pci_address_nodedev_name(&big, buf), ==,
                    "pci_10000_e1_1f_7");
}

static void
test_roundtrip_and_order(void)
{
    VhPciAddress a, b, c;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    g_assert_true(vh_pci_address_parse("pci_0000_01_02_3", &a, NULL));
    g_assert_true(vh_pci_address_parse(vh_pci_address_format(&a, buf), &b, NULL));
    g_assert_true(vh_pci_address_equal(&a, &b));
    g_assert_true(vh_pci_address_parse("0000:01:02.4", &c, NULL));
    g_assert_cmpint(vh_pci_address_compare(&a, &c), <, 0);
    g_assert_cmpint(vh_pci_address_compare(&c, &a), >, 0);
    g_assert_true(vh_pci_address_parse("0001:00:00.0", &c, NULL));
    g_assert_cmpint(vh_pci_address_compare(&a, &c), <, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("PCI address parsing refuses every malformed form with "
                   "one clear line and formats canonically");
    g_test_add_func("/util/pci-address/parse/good", test_parse_good);
    g_test_add_func("/util/pci-address/parse/bad", test_parse_bad);
    g_test_add_func("/util/pci-address/parse/message", test_message_quotes_input);
    g_test_add_func("/util/pci-address/format", test_format);
    g_test_add_func("/util/pci-address/roundtrip", test_roundtrip_and_order);
    return g_test_run();
}
