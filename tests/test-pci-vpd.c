/*
 * test-pci-vpd.c: Vital Product Data kept and dropped as libvirt 9.0 does,
 * read from a fake sysfs tree and shown in node-device XML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-fake-sysfs.h"
#include "vh-node-device-xml.h"
#include "vh-node-device.h"
#include "vh-pci-vpd.h"
#include "vh-test-topologies.h"

#define NIC_LEN (sizeof(vh_test_vpd_nic) - 1)
/* vh_test_vpd_nic: where VPD-R starts, and RV's checksum byte. */
#define NIC_VPD_R_AT 0x2e
#define NIC_CHECKSUM_AT 0x74

/* ---- Building VPD ------------------------------------------------------ */

static void
add_bytes(GByteArray *vpd, const void *bytes, gsize len)
{
    g_byte_array_append(vpd, bytes, (guint) len);
}

/* A keyword field; @len -1: @value is a string. */
static void
add_field(GByteArray *fields, const char *kw, const char *value, gssize len)
{
    guint8 hdr[3] = { kw[0], kw[1], 0 };

    if (len < 0)
        len = (gssize) strlen(value);
    g_assert_cmpint(len, <=, 255);
    hdr[2] = (guint8) len;
    add_bytes(fields, hdr, sizeof(hdr));
    add_bytes(fields, value, (gsize) len);
}

static void
add_large(GByteArray *vpd, guint8 tag, const void *data, gsize len)
{
    guint8 hdr[3] = { tag, len & 0xff, len >> 8 };

    add_bytes(vpd, hdr, sizeof(hdr));
    add_bytes(vpd, data, len);
}

static void
add_name(GByteArray *vpd, const char *name)
{
    add_large(vpd, 0x82, name, strlen(name));
}

/* VPD-R of @fields closed by an RV whose checksum makes @vpd add up to 0. */
static void
add_read_only(GByteArray *vpd, const GByteArray *fields)
{
    gsize len = fields->len + 3 + 4;
    guint8 hdr[3] = { 0x90, len & 0xff, len >> 8 };
    guint8 rv[3] = { 'R', 'V', 4 };
    guint8 tail[4] = { 0 };
    guint8 sum = 0;
    guint i;

    add_bytes(vpd, hdr, sizeof(hdr));
    add_bytes(vpd, fields->data, fields->len);
    add_bytes(vpd, rv, sizeof(rv));
    for (i = 0; i < vpd->len; i++)
        sum += vpd->data[i];
    tail[0] = (guint8) -sum;
    add_bytes(vpd, tail, sizeof(tail));
}

static void
add_end(GByteArray *vpd)
{
    guint8 end = 0x78;

    add_bytes(vpd, &end, 1);
}

/* Identifier string @name (NULL: none), VPD-R with @ro_fields, end tag. */
static GByteArray *
build(const char *name, const GByteArray *ro_fields)
{
    GByteArray *vpd = g_byte_array_new();

    if (name)
        add_name(vpd, name);
    add_read_only(vpd, ro_fields);
    add_end(vpd);
    return vpd;
}

/* Sets @data[@at] so that bytes 0 to @at add up to 0. */
static void
fix_checksum(guint8 *data, gsize at)
{
    guint8 sum = 0;
    gsize i;

    for (i = 0; i < at; i++)
        sum += data[i];
    data[at] = (guint8) -sum;
}

static VhPciVpd *
parse(const GByteArray *vpd)
{
    return vh_pci_vpd_parse(vpd->data, vpd->len);
}

static void
assert_rejected(const guint8 *data, gsize len, const char *what)
{
    g_autoptr(VhPciVpd) vpd = vh_pci_vpd_parse(data, len);

    if (vpd) {
        g_test_message("%s: accepted", what);
        g_test_fail();
    }
}

static const char *
field_value(const GArray *fields, char index)
{
    guint i;

    for (i = 0; i < fields->len; i++) {
        const VhPciVpdField *f = &g_array_index(fields, VhPciVpdField, i);
        if (f->index == index)
            return f->value;
    }
    return NULL;
}

/* ---- Parsing ----------------------------------------------------------- */

static void
test_parse_realistic(void)
{
    g_autoptr(VhPciVpd) vpd = vh_pci_vpd_parse(vh_test_vpd_nic, NIC_LEN);
    const VhPciVpdReadOnly *ro;
    const VhPciVpdReadWrite *rw;

    g_assert_nonnull(vpd);
    g_assert_cmpstr(vpd->name, ==, "Example Networks 25GbE 2-port SFP28 Adapter");
    ro = vpd->read_only;
    g_assert_nonnull(ro);
    g_assert_cmpstr(ro->part_number, ==, "EXN-25G2-SFP28");
    g_assert_cmpstr(ro->change_level, ==, "A3");
    g_assert_cmpstr(ro->serial_number, ==, "EXN2043A0123");
    g_assert_cmpstr(ro->manufacture_id, ==, "1af4");
    g_assert_cmpuint(ro->vendor_fields->len, ==, 1);
    g_assert_cmpstr(field_value(ro->vendor_fields, '1'), ==, "FW 2.1.7, PXE 3.4");

    rw = vpd->read_write;
    g_assert_nonnull(rw);
    g_assert_cmpstr(rw->asset_tag, ==, "RACK-07 U12");
    g_assert_cmpuint(rw->vendor_fields->len, ==, 1);
    g_assert_cmpstr(field_value(rw->vendor_fields, '2'), ==, "Port map: 0=A;1=B");
    g_assert_cmpuint(rw->system_fields->len, ==, 1);
    g_assert_cmpstr(field_value(rw->system_fields, '1'), ==, "Boot order=2");
}

static void
test_parse_checksum(void)
{
    guint8 vpd[sizeof(vh_test_vpd_nic)];
    g_autoptr(VhPciVpd) after_rv = NULL;
    gsize i;

    g_assert_cmphex(vh_test_vpd_nic[NIC_CHECKSUM_AT], ==, 0xec);
    g_assert_null(vh_pci_vpd_parse(vh_test_vpd_nic_corrupt, NIC_LEN));

    /* Any byte up to the checksum byte changed: no VPD. */
    for (i = 0; i <= NIC_CHECKSUM_AT; i++) {
        g_autofree char *what = g_strdup_printf("byte %#zx changed", i);

        memcpy(vpd, vh_test_vpd_nic, sizeof(vpd));
        vpd[i]++;
        assert_rejected(vpd, NIC_LEN, what);
    }

    /* The checksum covers nothing after it: VPD-W may change. */
    memcpy(vpd, vh_test_vpd_nic, sizeof(vpd));
    vpd[0x7e] = 'Q';        /* RACK -> QACK */
    after_rv = vh_pci_vpd_parse(vpd, NIC_LEN);
    g_assert_nonnull(after_rv);
    g_assert_cmpstr(after_rv->read_write->asset_tag, ==, "QACK-07 U12");
}

static void
test_parse_truncated(void)
{
    g_autoptr(GByteArray) padded = g_byte_array_new();
    g_autoptr(VhPciVpd) full = NULL;
    g_autoptr(VhPciVpd) tail = NULL;
    gsize len;

    /* Every prefix lacks the end tag at least.  Each sits in a heap block
     * of its own size, so that a read past it shows under valgrind/ASan. */
    for (len = 0; len < NIC_LEN; len++) {
        g_autofree guint8 *prefix = g_memdup2(vh_test_vpd_nic, len);
        g_autofree char *what = g_strdup_printf("a prefix of %zu bytes", len);

        assert_rejected(prefix, len, what);
    }
    full = vh_pci_vpd_parse(vh_test_vpd_nic, NIC_LEN);
    g_assert_nonnull(full);

    /* What follows the end tag is not looked at. */
    add_bytes(padded, vh_test_vpd_nic, NIC_LEN);
    g_byte_array_set_size(padded, 4096);
    memset(padded->data + NIC_LEN, 0xff, padded->len - NIC_LEN);
    tail = parse(padded);
    g_assert_nonnull(tail);
    g_assert_cmpstr(tail->read_only->serial_number, ==, "EXN2043A0123");
}

static void
test_parse_past_end(void)
{
    guint8 vpd[sizeof(vh_test_vpd_nic)];
    g_autoptr(GByteArray) skipped = g_byte_array_new();
    g_autoptr(GByteArray) fields = g_byte_array_new();
    g_autoptr(GByteArray) long_field = NULL;
    g_autoptr(GByteArray) huge = g_byte_array_new();
    guint8 unknown[3] = { 0xa0, 0x00, 0x01 };   /* 256 bytes of "data" */
    guint8 too_long[3] = { 'V', '9', 200 };
    guint8 beyond[3] = { 0xa0, 0xff, 0x7f };    /* past 32 KiB */

    /* The identifier string claims 0x12b bytes. */
    memcpy(vpd, vh_test_vpd_nic, sizeof(vpd));
    vpd[2] = 0x01;
    assert_rejected(vpd, NIC_LEN, "long identifier string");

    /* VPD-R claims 0x100 bytes: RV is not its last field, and the rest
     * is not there. */
    memcpy(vpd, vh_test_vpd_nic, sizeof(vpd));
    vpd[NIC_VPD_R_AT + 1] = 0x00;
    vpd[NIC_VPD_R_AT + 2] = 0x01;
    fix_checksum(vpd, NIC_CHECKSUM_AT);
    assert_rejected(vpd, NIC_LEN, "long VPD-R");
    vpd[NIC_VPD_R_AT + 2] = 0x00;       /* and 0 bytes: RV is outside */
    fix_checksum(vpd, NIC_CHECKSUM_AT);
    assert_rejected(vpd, NIC_LEN, "empty VPD-R");

    /* A resource libvirt skips, longer than the data: no VPD-R, no end. */
    add_bytes(skipped, vh_test_vpd_nic, NIC_VPD_R_AT);
    add_bytes(skipped, unknown, sizeof(unknown));
    add_bytes(skipped, vh_test_vpd_nic + NIC_VPD_R_AT, NIC_LEN - NIC_VPD_R_AT);
    assert_rejected(skipped->data, skipped->len, "long unknown resource");

    /* A field longer than its section. */
    add_field(fields, "PN", "X", -1);
    add_bytes(fields, too_long, sizeof(too_long));
    long_field = build("n", fields);
    assert_rejected(long_field->data, long_field->len, "long field");

    /* A resource leaving the 15-bit VPD address space, data or not. */
    add_bytes(huge, beyond, sizeof(beyond));
    g_byte_array_set_size(huge, 0x9000);
    memset(huge->data + 3, 0x78, huge->len - 3);
    assert_rejected(huge->data, huge->len, "resource past 32 KiB");
}

static void
test_parse_text(void)
{
    g_autoptr(GByteArray) fields = g_byte_array_new();
    g_autoptr(GByteArray) v = NULL;
    g_autoptr(GByteArray) bad_name = NULL;
    g_autoptr(GByteArray) no_name = NULL;
    g_autoptr(VhPciVpd) vpd = NULL;
    g_autoptr(VhPciVpd) nameless = NULL;

    add_field(fields, "PN", "Caf\xc3\xa9", -1);    /* UTF-8: skipped */
    add_field(fields, "SN", "\tSN 42 \r\n", -1);   /* trimmed */
    add_field(fields, "EC", "A1\0junk\x01", 8);    /* cut at the NUL */
    add_field(fields, "MN", "a\x7f" "b", -1);      /* DEL: skipped */
    add_field(fields, "V0", "   ", -1);            /* empty, kept */
    add_field(fields, "V1", "\xff\xfe", -1);       /* skipped */
    v = build("  Name with <&'\"> ", fields);
    vpd = parse(v);
    g_assert_nonnull(vpd);
    g_assert_cmpstr(vpd->name, ==, "Name with <&'\">");
    g_assert_null(vpd->read_only->part_number);
    g_assert_cmpstr(vpd->read_only->serial_number, ==, "SN 42");
    g_assert_cmpstr(vpd->read_only->change_level, ==, "A1");
    g_assert_null(vpd->read_only->manufacture_id);
    g_assert_cmpuint(vpd->read_only->vendor_fields->len, ==, 1);
    g_assert_cmpstr(field_value(vpd->read_only->vendor_fields, '0'), ==, "");
    g_assert_null(vpd->read_write);

    /* An identifier string that is not printable ASCII drops it all. */
    bad_name = build("Caf\xc3\xa9", fields);
    assert_rejected(bad_name->data, bad_name->len, "UTF-8 name");

    /* No identifier string at all is fine. */
    no_name = build(NULL, fields);
    nameless = parse(no_name);
    g_assert_nonnull(nameless);
    g_assert_null(nameless->name);
}

static void
test_parse_empty(void)
{
    guint8 end = 0x78;

    g_assert_null(vh_pci_vpd_parse(NULL, 0));
    g_assert_null(vh_pci_vpd_parse(vh_test_vpd_nic, 0));
    /* An end tag alone: no VPD-R. */
    g_assert_null(vh_pci_vpd_parse(&end, 1));
}

static void
test_parse_no_end(void)
{
    guint8 vpd[sizeof(vh_test_vpd_nic)];
    g_autoptr(VhPciVpd) other_end = NULL;

    g_assert_null(vh_pci_vpd_parse(vh_test_vpd_nic, NIC_LEN - 1));
    memcpy(vpd, vh_test_vpd_nic, sizeof(vpd));
    vpd[NIC_LEN - 1] = 0x79;    /* small item 0xf, length 1: an end tag */
    other_end = vh_pci_vpd_parse(vpd, NIC_LEN);
    g_assert_nonnull(other_end);
    vpd[NIC_LEN - 1] = 0x10;    /* small item 2, skipped, then nothing */
    assert_rejected(vpd, NIC_LEN, "small item for the end tag");
}

/* Where each section must end, and which keywords go where. */
static void
test_parse_sections(void)
{
    static const struct {
        const char *what;
        const char *ro;         /* more VPD-R fields before RV */
        gsize ro_len;
        const char *rw;         /* VPD-W; NULL: none */
        gsize rw_len;
    } bad[] = {
        { "RW in VPD-R", "RW\x00", 3, NULL, 0 },
        { "RV in VPD-W", NULL, 0, "RV\x01\x00", 4 },
        { "RW not last", NULL, 0, "RW\x00" "YA\x01" "x", 7 },
        { "bytes after the last field", NULL, 0, "YA\x01" "x" "\x00\x00", 6 },
    };
    guint8 no_rv[] = { 0x90, 0x03, 0x00, 'P', 'N', 0x00, 0x78 };
    guint8 rv_not_last[] = { 0x90, 0x07, 0x00, 'R', 'V', 0x01, 0x00,
                             'S', 'N', 0x00, 0x78 };
    guint8 rv_last[] = { 0x90, 0x07, 0x00, 'S', 'N', 0x00,
                         'R', 'V', 0x01, 0x00, 0x78 };
    g_autoptr(GByteArray) ro = g_byte_array_new();
    g_autoptr(GByteArray) rw = g_byte_array_new();
    g_autoptr(GByteArray) no_ro = g_byte_array_new();
    g_autoptr(GByteArray) v = g_byte_array_new();
    g_autoptr(VhPciVpd) vpd = NULL;
    g_autoptr(VhPciVpd) minimal = NULL;
    const VhPciVpdField *first;
    gsize i;

    assert_rejected(no_rv, sizeof(no_rv), "VPD-R without RV");
    fix_checksum(rv_not_last, 6);
    assert_rejected(rv_not_last, sizeof(rv_not_last), "RV not last");
    fix_checksum(rv_last, 9);
    minimal = vh_pci_vpd_parse(rv_last, sizeof(rv_last));
    g_assert_nonnull(minimal);
    g_assert_cmpstr(minimal->read_only->serial_number, ==, "");

    /* No VPD-R at all. */
    add_name(no_ro, "n");
    add_field(rw, "YA", "tag", -1);
    add_large(no_ro, 0x91, rw->data, rw->len);
    add_end(no_ro);
    assert_rejected(no_ro->data, no_ro->len, "no VPD-R");

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GByteArray) f = g_byte_array_new();
        g_autoptr(GByteArray) b = g_byte_array_new();

        add_field(f, "PN", "p", -1);
        if (bad[i].ro)
            add_bytes(f, bad[i].ro, bad[i].ro_len);
        add_name(b, "n");
        add_read_only(b, f);
        if (bad[i].rw)
            add_large(b, 0x91, bad[i].rw, bad[i].rw_len);
        add_end(b);
        assert_rejected(b->data, b->len, bad[i].what);
    }

    /* VPD-W without RW is accepted; keywords of the other section and
     * unknown ones are ignored; a repeated Vx replaces in place. */
    add_field(ro, "V3", "first", -1);
    add_field(ro, "V1", "one", -1);
    add_field(ro, "V3", "second", -1);
    add_field(ro, "YA", "not here", -1);
    add_field(ro, "ZZ", "unknown", -1);
    add_field(ro, "pn", "lower case", -1);
    add_field(ro, "FG", "PICMIG", -1);
    g_byte_array_set_size(rw, 0);
    add_field(rw, "PN", "not here", -1);
    add_field(rw, "YB", "system", -1);
    add_field(rw, "VZ", "vendor", -1);
    add_name(v, "n");
    add_read_only(v, ro);
    add_large(v, 0x91, rw->data, rw->len);
    add_end(v);
    vpd = parse(v);
    g_assert_nonnull(vpd);
    g_assert_cmpuint(vpd->read_only->vendor_fields->len, ==, 2);
    first = &g_array_index(vpd->read_only->vendor_fields, VhPciVpdField, 0);
    g_assert_cmpint(first->index, ==, '3');
    g_assert_cmpstr(first->value, ==, "second");
    g_assert_cmpstr(field_value(vpd->read_only->vendor_fields, '1'), ==, "one");
    g_assert_null(vpd->read_only->part_number);
    g_assert_null(vpd->read_write->asset_tag);
    g_assert_cmpstr(field_value(vpd->read_write->system_fields, 'B'), ==,
                    "system");
    g_assert_cmpstr(field_value(vpd->read_write->vendor_fields, 'Z'), ==,
                    "vendor");
}

/* A section with only fields libvirt ignores still exists (libvirt shows
 * an empty <fields>); unknown keywords and invalid text make none. */
static void
test_parse_empty_sections(void)
{
    g_autoptr(GByteArray) ro = g_byte_array_new();
    g_autoptr(GByteArray) rw = g_byte_array_new();
    g_autoptr(GByteArray) v = g_byte_array_new();
    g_autoptr(GByteArray) ignored = g_byte_array_new();
    g_autoptr(GByteArray) v2 = NULL;
    g_autoptr(VhPciVpd) vpd = NULL;
    g_autoptr(VhPciVpd) vpd2 = NULL;

    add_field(ro, "CP", "\x01\x02", 2);
    add_field(rw, "EC", "x", -1);
    add_field(rw, "RW", "\0\0", 2);
    add_name(v, "n");
    add_read_only(v, ro);
    add_large(v, 0x91, rw->data, rw->len);
    add_end(v);
    vpd = parse(v);
    g_assert_nonnull(vpd);
    g_assert_nonnull(vpd->read_only);
    g_assert_null(vpd->read_only->part_number);
    g_assert_cmpuint(vpd->read_only->vendor_fields->len, ==, 0);
    g_assert_nonnull(vpd->read_write);
    g_assert_null(vpd->read_write->asset_tag);

    add_field(ignored, "ZZ", "z", -1);
    add_field(ignored, "PN", "\x01", -1);
    v2 = build("n", ignored);
    vpd2 = parse(v2);
    g_assert_nonnull(vpd2);
    g_assert_null(vpd2->read_only);
    g_assert_null(vpd2->read_write);
}

/* libvirt's checksum leaves out the data of resources it skips, and reads
 * a zero-length RV's checksum from the byte after it. */
static void
test_parse_checksum_quirks(void)
{
    guint8 skipped[] = {
        0x82, 0x01, 0x00, 'n',
        0xa0, 0x02, 0x00, 0x55, 0x66,           /* large resource 0x20 */
        0x90, 0x08, 0x00, 'P', 'N', 0x01, 'p', 'R', 'V', 0x01, 0x00,
        0x78,
    };
    /* 'd' + 'e' make every byte through the end tag add up to 0. */
    static const guint8 rv_empty[] = {
        0x82, 0x02, 0x00, 'd', 'e',
        0x90, 0x03, 0x00, 'R', 'V', 0x00,
        0x78,
    };
    guint8 rv_empty_off[sizeof(rv_empty)];
    g_autoptr(VhPciVpd) vpd = NULL;
    g_autoptr(VhPciVpd) empty = NULL;
    guint8 sum = 0;
    gsize i;

    /* A checksum over every byte, as the spec has it, fails ... */
    fix_checksum(skipped, 19);
    assert_rejected(skipped, sizeof(skipped), "checksum over skipped data");
    /* ... one without the skipped data passes. */
    for (i = 0; i < 19; i++) {
        if (i != 7 && i != 8)
            sum += skipped[i];
    }
    skipped[19] = (guint8) -sum;
    vpd = vh_pci_vpd_parse(skipped, sizeof(skipped));
    g_assert_nonnull(vpd);
    g_assert_cmpstr(vpd->read_only->part_number, ==, "p");

    empty = vh_pci_vpd_parse(rv_empty, sizeof(rv_empty));
    g_assert_nonnull(empty);
    g_assert_cmpstr(empty->name, ==, "de");
    g_assert_null(empty->read_only);
    g_assert_null(empty->read_write);
    /* 0x79 is an end tag too, but one more in the sum. */
    memcpy(rv_empty_off, rv_empty, sizeof(rv_empty));
    rv_empty_off[sizeof(rv_empty) - 1] = 0x79;
    assert_rejected(rv_empty_off, sizeof(rv_empty_off), "checksum off by one");
}

/* Mutations of a valid VPD and random bytes: no crash, no read past the
 * end (each input is a heap block of its own size, for valgrind/ASan). */
static void
test_parse_fuzz(void)
{
    guint n = g_test_thorough() ? 500000 : 20000;
    guint accepted = 0;
    guint i;

    for (i = 0; i < n; i++) {
        gsize len = (gsize) g_test_rand_int_range(0, (gint32) NIC_LEN + 16);
        g_autofree guint8 *data = g_malloc(MAX(len, 1));
        g_autoptr(VhPciVpd) vpd = NULL;
        guint flips;
        gsize j;

        if (i % 4 == 0) {
            for (j = 0; j < len; j++)
                data[j] = (guint8) g_test_rand_int_range(0, 256);
        } else {
            memcpy(data, vh_test_vpd_nic, MIN(len, NIC_LEN));
            for (j = NIC_LEN; j < len; j++)
                data[j] = 0xff;
            flips = (guint) g_test_rand_int_range(0, 4);
            while (len > 0 && flips-- > 0)
                data[g_test_rand_int_range(0, (gint32) len)] =
                    (guint8) g_test_rand_int_range(0, 256);
        }
        vpd = vh_pci_vpd_parse(data, len);
        if (vpd)
            accepted++;
    }
    g_test_message("%u of %u inputs accepted", accepted, n);
}

/* ---- From sysfs to XML ------------------------------------------------- */

typedef struct {
    VhFakeSysfs *fake;
    VhSysfs *sysfs;
    VhNodeDeviceList *list;
} Tree;

static void
tree_load(Tree *t, const VhFakePciDevice *devs, gsize n)
{
    g_autoptr(GError) err = NULL;

    t->fake = vh_fake_sysfs_new(devs, n, &err);
    g_assert_no_error(err);
    t->sysfs = vh_sysfs_new(vh_fake_sysfs_root(t->fake), &err);
    g_assert_no_error(err);
    t->list = vh_node_device_list_scan(t->sysfs, 0, &err);
    g_assert_no_error(err);
}

static void
tree_clear(Tree *t)
{
    g_clear_pointer(&t->list, vh_node_device_list_free);
    g_clear_pointer(&t->sysfs, vh_sysfs_free);
    g_clear_pointer(&t->fake, vh_fake_sysfs_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Tree, tree_clear)

static const VhNodeDevice *
tree_dev(const Tree *t, const char *addr)
{
    VhPciAddress a;
    const VhNodeDevice *dev;

    g_assert_true(vh_pci_address_parse(addr, &a, NULL));
    dev = vh_node_device_list_lookup(t->list, &a);
    g_assert_nonnull(dev);
    return dev;
}

static char *
tree_xml(const Tree *t, const char *addr)
{
    g_autoptr(GError) err = NULL;
    char *xml = vh_node_device_format_xml(t->list, tree_dev(t, addr), &err);

    g_assert_no_error(err);
    return xml;
}

static void
test_load(void)
{
    static const guint8 nothing[1] = { 0 };
    const VhFakePciDevice devs[] = {
        vh_test_vpd[0],
        vh_test_vpd[1],
        VH_FAKE_PCI("0000:3c:00.0", 0x8086, 0x159b, 0x020000,
                    .vpd = nothing, .vpd_len = 0),
        VH_FAKE_PCI("0000:3d:00.0", 0x8086, 0x159b, 0x020000),
    };
    g_auto(Tree) t = { 0 };
    const VhNodeDevice *dev;

    tree_load(&t, devs, G_N_ELEMENTS(devs));
    dev = tree_dev(&t, "0000:3b:00.0");
    g_assert_nonnull(dev->vpd);
    g_assert_cmpstr(dev->vpd->read_only->serial_number, ==, "EXN2043A0123");
    g_assert_null(tree_dev(&t, "0000:3b:00.1")->vpd);     /* bad checksum */
    g_assert_null(tree_dev(&t, "0000:3c:00.0")->vpd);     /* empty file */
    g_assert_null(tree_dev(&t, "0000:3d:00.0")->vpd);     /* no file */
}

/* What libvirt 9.0 prints for odd VPDs (virNodeDeviceCapVPDFormat). */
static void
test_xml_libvirt_quirks(void)
{
    g_autoptr(GByteArray) ro = g_byte_array_new();
    g_autoptr(GByteArray) rw = g_byte_array_new();
    g_autoptr(GByteArray) odd = g_byte_array_new();
    g_autoptr(GByteArray) fields = g_byte_array_new();
    g_autoptr(GByteArray) nameless = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(Tree) t = { 0 };
    g_autofree char *bridge_xml = NULL;
    g_autofree char *nameless_xml = NULL;
    g_autofree char *all = NULL;

    /* The name escaped, values not (but for < and &); empty sections. */
    add_field(ro, "CP", "\x01\x02", 2);
    add_field(rw, "V1", "It's \"x\" > <y> & z", -1);
    add_field(rw, "Y2", "", 0);
    add_name(odd, "It's <\"n\"> & more");
    add_read_only(odd, ro);
    add_large(odd, 0x91, rw->data, rw->len);
    add_end(odd);

    add_field(fields, "PN", "p", -1);
    nameless = build(NULL, fields);
    {
        const VhFakePciDevice devs[] = {
            VH_FAKE_PCI("0000:00:1c.0", 0x8086, 0xa110, 0x060400, .group = 2,
                        .vpd = odd->data, .vpd_len = odd->len),
            VH_FAKE_PCI("0000:02:00.0", 0x8086, 0x159b, 0x020000,
                        .parent = "0000:00:1c.0",
                        .vpd = nameless->data, .vpd_len = nameless->len),
        };
        tree_load(&t, devs, G_N_ELEMENTS(devs));
    }

    /* After the bridge capability, before iommuGroup. */
    bridge_xml = tree_xml(&t, "0000:00:1c.0");
    g_assert_nonnull(strstr(bridge_xml,
        "    <capability type='pci-bridge'/>\n"
        "    <capability type='vpd'>\n"
        "      <name>It&apos;s &lt;&quot;n&quot;&gt; &amp; more</name>\n"
        "      <fields access='readonly'>\n"
        "      </fields>\n"
        "      <fields access='readwrite'>\n"
        "        <vendor_field index='1'>It's \"x\" > &lt;y> &amp; z</vendor_field>\n"
        "        <system_field index='2'></system_field>\n"
        "      </fields>\n"
        "    </capability>\n"
        "    <iommuGroup number='2'>\n"));

    /* No identifier string: no <name>, as libvirt (nodedev.rng wants
     * one). */
    nameless_xml = tree_xml(&t, "0000:02:00.0");
    g_assert_nonnull(strstr(nameless_xml,
        "    <capability type='vpd'>\n"
        "      <fields access='readonly'>\n"
        "        <part_number>p</part_number>\n"
        "      </fields>\n"
        "    </capability>\n"
        "  </capability>\n"));

    /* In the list the empty element sits one level deeper. */
    all = vh_node_device_list_format_xml(t.list, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(all, "\n        <fields access='readonly'>\n"
                                 "        </fields>\n"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("PCI VPD kept and dropped as libvirt 9.0 does, from sysfs "
                   "to node-device XML");
    g_test_add_func("/pci-vpd/parse/realistic", test_parse_realistic);
    g_test_add_func("/pci-vpd/parse/checksum", test_parse_checksum);
    g_test_add_func("/pci-vpd/parse/truncated", test_parse_truncated);
    g_test_add_func("/pci-vpd/parse/past-end", test_parse_past_end);
    g_test_add_func("/pci-vpd/parse/text", test_parse_text);
    g_test_add_func("/pci-vpd/parse/empty", test_parse_empty);
    g_test_add_func("/pci-vpd/parse/no-end-tag", test_parse_no_end);
    g_test_add_func("/pci-vpd/parse/sections", test_parse_sections);
    g_test_add_func("/pci-vpd/parse/empty-sections", test_parse_empty_sections);
    g_test_add_func("/pci-vpd/parse/checksum-quirks", test_parse_checksum_quirks);
    g_test_add_func("/pci-vpd/parse/fuzz", test_parse_fuzz);
    g_test_add_func("/pci-vpd/node-device/load", test_load);
    g_test_add_func("/pci-vpd/xml/libvirt-quirks", test_xml_libvirt_quirks);
    return g_test_run();
}
