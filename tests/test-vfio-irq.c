/*
 * test-vfio-irq.c: VFIO_DEVICE_SET_IRQS buffers byte by byte; INTx, MSI,
 * MSI-X grown lazily with stable eventfds, loopback triggers, ERR/REQ,
 * disable, re-arming after reset
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-fake-vfio.h"
#include "vh-vfio-priv.h"

static const int one_group[] = { 3 };

/* The argument of the @i-th SET_IRQS call. */
static const struct vfio_irq_set *
irq_set_at(VhFakeVfio *fake, guint i, gsize *ret_size)
{
    GBytes *b;

    g_assert_cmpuint(i, <, fake->irq_sets->len);
    b = g_ptr_array_index(fake->irq_sets, i);
    return g_bytes_get_data(b, ret_size);
}

static void
assert_set(VhFakeVfio *fake, guint i, guint32 index, guint32 flags,
           guint32 start, guint32 count, const gint32 *fds)
{
    gsize size = 0;
    const struct vfio_irq_set *set = irq_set_at(fake, i, &size);

    g_test_message("SET_IRQS #%u", i);
    g_assert_cmpuint(set->index, ==, index);
    g_assert_cmphex(set->flags, ==, flags);
    g_assert_cmpuint(set->start, ==, start);
    g_assert_cmpuint(set->count, ==, count);
    g_assert_cmpuint(set->argsz, ==, size);
    if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
        g_assert_cmpuint(size, ==, sizeof(*set) + count * 4);
        g_assert_cmpmem(set->data, count * 4, fds, count * 4);
    } else {
        g_assert_cmpuint(size, ==, sizeof(*set));
    }
}

static void
test_set_bytes(void)
{
    static const gint32 fds[3] = { 7, -1, 9 };
    static const guint8 bools[2] = { 1, 0 };
    /* argsz 32 (20 + 3 * 4), flags DATA_EVENTFD|ACTION_TRIGGER (0x24),
     * index 2, start 1, count 3, then the fds in host order. */
    static const guint8 want_eventfd[] = {
        0x20, 0, 0, 0,  0x24, 0, 0, 0,  2, 0, 0, 0,  1, 0, 0, 0,
        3, 0, 0, 0,  7, 0, 0, 0,  0xff, 0xff, 0xff, 0xff,  9, 0, 0, 0,
    };
    /* Disable: DATA_NONE|ACTION_TRIGGER (0x21), count 0, nothing after. */
    static const guint8 want_disable[] = {
        0x14, 0, 0, 0,  0x21, 0, 0, 0,  1, 0, 0, 0,  0, 0, 0, 0,
        0, 0, 0, 0,
    };
    /* Unmask INTx: DATA_NONE|ACTION_UNMASK (0x11), count 1. */
    static const guint8 want_unmask[] = {
        0x14, 0, 0, 0,  0x11, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,
        1, 0, 0, 0,
    };
    /* DATA_BOOL|ACTION_TRIGGER (0x22), two bytes of data. */
    static const guint8 want_bool[] = {
        0x16, 0, 0, 0,  0x22, 0, 0, 0,  2, 0, 0, 0,  4, 0, 0, 0,
        2, 0, 0, 0,  1, 0,
    };
    g_autofree struct vfio_irq_set *a = NULL;
    g_autofree struct vfio_irq_set *b = NULL;
    g_autofree struct vfio_irq_set *c = NULL;
    g_autofree struct vfio_irq_set *d = NULL;
    gsize size = 0;

    g_assert_cmpuint(G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
    a = vh_vfio_irq_set_new(2, VFIO_IRQ_SET_DATA_EVENTFD |
                            VFIO_IRQ_SET_ACTION_TRIGGER, 1, 3, fds, NULL,
                            &size);
    g_assert_cmpmem(a, size, want_eventfd, sizeof(want_eventfd));
    b = vh_vfio_irq_set_new(1, VFIO_IRQ_SET_DATA_NONE |
                            VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL, NULL,
                            &size);
    g_assert_cmpmem(b, size, want_disable, sizeof(want_disable));
    c = vh_vfio_irq_set_new(0, VFIO_IRQ_SET_DATA_NONE |
                            VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL, NULL,
                            &size);
    g_assert_cmpmem(c, size, want_unmask, sizeof(want_unmask));
    d = vh_vfio_irq_set_new(2, VFIO_IRQ_SET_DATA_BOOL |
                            VFIO_IRQ_SET_ACTION_TRIGGER, 4, 2, NULL, bools,
                            &size);
    g_assert_cmpmem(d, size, want_bool, sizeof(want_bool));
}

#define EVENTFD_TRIGGER (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define NONE_TRIGGER (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)

static VhFakeVfio *
fake_new(guint msi, guint msix)
{
    VhFakeVfio *fake = vh_fake_vfio_new("0000:00:06.0", one_group, 1);

    fake->irqs[1].count = msi;
    fake->irqs[2].count = msix;
    fake->irqs[3].count = 1;
    fake->irqs[4].count = 1;
    return fake;
}

static void
assert_fires(VhVfioDevice *dev, VhVfioIrqIndex index, guint vector)
{
    g_autoptr(GError) err = NULL;
    guint64 count = 0;

    g_assert_true(vh_vfio_device_irq_trigger(dev, index, vector, &err));
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_irq_wait(dev, index, vector, 1000, &count,
                                          &err));
    g_assert_no_error(err);
    g_assert_cmpuint(count, ==, 1);
}

static void
test_msix_lazy(void)
{
    g_autoptr(VhFakeVfio) fake = fake_new(1, 8);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    int e0, e1, e3;
    guint v;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    vh_fake_vfio_clear_log(fake);

    /* Vector 0: MSI-X enabled with one vector. */
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 0, &err));
    g_assert_no_error(err);
    e0 = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 0);
    g_assert_cmpint(e0, >=, 0);
    g_assert_cmpuint(fake->irq_sets->len, ==, 1);
    assert_set(fake, 0, 2, EVENTFD_TRIGGER, 0, 1, (gint32[]) { e0 });
    g_assert_cmpuint(vh_vfio_device_irq_get_enabled(dev, VH_VFIO_IRQ_MSIX),
                     ==, 1);

    /* Vector 1: NORESIZE, so disable and enable two with e0 kept. */
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 1, &err));
    e1 = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 1);
    g_assert_cmpint(e1, >=, 0);
    g_assert_cmpint(e1, !=, e0);
    g_assert_cmpuint(fake->irq_sets->len, ==, 3);
    assert_set(fake, 1, 2, NONE_TRIGGER, 0, 0, NULL);
    assert_set(fake, 2, 2, EVENTFD_TRIGGER, 0, 2, (gint32[]) { e0, e1 });

    /* Vector 3, skipping 2: four vectors, 2 left unassigned (-1). */
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 3, &err));
    e3 = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 3);
    g_assert_cmpint(vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 2),
                    ==, -1);
    assert_set(fake, 3, 2, NONE_TRIGGER, 0, 0, NULL);
    assert_set(fake, 4, 2, EVENTFD_TRIGGER, 0, 4,
               (gint32[]) { e0, e1, -1, e3 });
    /* Eventfds stable across the re-enables. */
    g_assert_cmpint(vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 0),
                    ==, e0);
    g_assert_cmpint(fake->irqs[2].trigger[0], ==, e0);
    g_assert_cmpint(fake->irqs[2].trigger[3], ==, e3);

    /* Vector 2, inside the block: just that vector. */
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 2, &err));
    g_assert_cmpuint(fake->irq_sets->len, ==, 6);
    assert_set(fake, 5, 2, EVENTFD_TRIGGER, 2, 1, (gint32[]) {
        vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 2) });

    /* Loopback: each vector's trigger reaches its own eventfd. */
    for (v = 0; v < 4; v++)
        assert_fires(dev, VH_VFIO_IRQ_MSIX, v);
    assert_set(fake, 6, 2, NONE_TRIGGER, 0, 1, NULL);
    assert_set(fake, 9, 2, NONE_TRIGGER, 3, 1, NULL);

    /* De-assign vector 1: fd -1 at start 1, count 1; the eventfd kept. */
    g_assert_true(vh_vfio_device_msix_disable_vector(dev, 1, &err));
    assert_set(fake, 10, 2, EVENTFD_TRIGGER, 1, 1, (gint32[]) { -1 });
    g_assert_cmpint(fake->irqs[2].trigger[1], ==, -1);
    g_assert_cmpint(vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 1),
                    ==, e1);
    /* Its trigger no longer reaches it. */
    g_assert_true(vh_vfio_device_irq_trigger(dev, VH_VFIO_IRQ_MSIX, 1, &err));
    g_assert_false(vh_vfio_device_irq_wait(dev, VH_VFIO_IRQ_MSIX, 1, 10,
                                           NULL, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_TIMEOUT);
    g_clear_error(&err);

    /* Growing to 5 hands vector 1 back as -1 (not in use). */
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 4, &err));
    assert_set(fake, fake->irq_sets->len - 1, 2, EVENTFD_TRIGGER, 0, 5,
               (gint32[]) { e0, -1,
                   vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 2),
                   e3, vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 4) });

    /* Beyond the device's vectors: refused before any call. */
    v = fake->irq_sets->len;
    g_assert_false(vh_vfio_device_msix_enable_vector(dev, 8, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_cmpuint(fake->irq_sets->len, ==, v);
    g_clear_error(&err);

    /* Disable: count 0. */
    g_assert_true(vh_vfio_device_irq_disable(dev, VH_VFIO_IRQ_MSIX, &err));
    assert_set(fake, fake->irq_sets->len - 1, 2, NONE_TRIGGER, 0, 0, NULL);
    g_assert_cmpuint(fake->irqs[2].enabled, ==, 0);
}

static void
test_msix_resizable(void)
{
    g_autoptr(VhFakeVfio) fake = fake_new(1, 8);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    int e2;

    /* A kernel with dynamic MSI-X (no NORESIZE): no disable to grow. */
    fake->irqs[2].flags &= ~VFIO_IRQ_INFO_NORESIZE;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    vh_fake_vfio_clear_log(fake);
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 0, &err));
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 2, &err));
    g_assert_no_error(err);
    e2 = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 2);
    g_assert_cmpuint(fake->irq_sets->len, ==, 2);
    assert_set(fake, 1, 2, EVENTFD_TRIGGER, 2, 1, (gint32[]) { e2 });
    assert_fires(dev, VH_VFIO_IRQ_MSIX, 2);
}

static void
test_intx_msi(void)
{
    g_autoptr(VhFakeVfio) fake = fake_new(4, 0);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    int ex;
    guint n;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    vh_fake_vfio_clear_log(fake);

    /* INTx: eventfd trigger, then unmask. */
    g_assert_true(vh_vfio_device_intx_enable(dev, &err));
    g_assert_no_error(err);
    ex = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_INTX, 0);
    assert_set(fake, 0, 0, EVENTFD_TRIGGER, 0, 1, (gint32[]) { ex });
    assert_set(fake, 1, 0, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
               0, 1, NULL);
    assert_fires(dev, VH_VFIO_IRQ_INTX, 0);

    /* MSI with 3 vectors: INTx is disabled first (they exclude each other). */
    n = fake->irq_sets->len;
    g_assert_true(vh_vfio_device_msi_enable(dev, 3, &err));
    g_assert_no_error(err);
    assert_set(fake, n, 0, NONE_TRIGGER, 0, 0, NULL);
    assert_set(fake, n + 1, 1, EVENTFD_TRIGGER, 0, 3, (gint32[]) {
        vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSI, 0),
        vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSI, 1),
        vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSI, 2) });
    g_assert_cmpuint(vh_vfio_device_irq_get_enabled(dev, VH_VFIO_IRQ_INTX),
                     ==, 0);
    assert_fires(dev, VH_VFIO_IRQ_MSI, 2);

    /* More vectors than the device has: refused, nothing sent. */
    n = fake->irq_sets->len;
    g_assert_false(vh_vfio_device_msi_enable(dev, 5, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_cmpuint(fake->irq_sets->len, ==, n);
    g_clear_error(&err);

    /* No MSI-X on this device. */
    g_assert_false(vh_vfio_device_msix_enable_vector(dev, 0, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED);
    g_clear_error(&err);

    /* INTx eventfd survives: same fd when enabled again. */
    g_assert_true(vh_vfio_device_intx_enable(dev, &err));
    g_assert_cmpint(vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_INTX, 0),
                    ==, ex);
    g_assert_cmpuint(fake->irqs[1].enabled, ==, 0);
}

static void
test_err_req(void)
{
    g_autoptr(VhFakeVfio) fake = fake_new(1, 0);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_err_enable(dev, &err));
    g_assert_true(vh_vfio_device_req_enable(dev, &err));
    g_assert_no_error(err);
    /* ERR and REQ live beside MSI: enabling MSI keeps them. */
    g_assert_true(vh_vfio_device_msi_enable(dev, 1, &err));
    g_assert_cmpuint(fake->irqs[3].enabled, ==, 1);
    g_assert_cmpuint(fake->irqs[4].enabled, ==, 1);
    assert_fires(dev, VH_VFIO_IRQ_ERR, 0);
    assert_fires(dev, VH_VFIO_IRQ_REQ, 0);
    g_assert_true(vh_vfio_device_irq_disable(dev, VH_VFIO_IRQ_REQ, &err));
    g_assert_cmpuint(fake->irqs[4].enabled, ==, 0);

    /* A device without ERR (conventional PCI): said so. */
    fake->irqs[3].count = 0;
    {
        g_autoptr(VhFakeVfio) f2 = fake_new(1, 0);
        g_autoptr(VhVfioDevice) d2 = NULL;

        f2->irqs[3].count = 0;
        d2 = vh_fake_vfio_open(f2, &err);
        g_assert_no_error(err);
        g_assert_false(vh_vfio_device_err_enable(d2, &err));
        g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED);
        g_assert_nonnull(strstr(err->message, "0000:00:06.0 has no ERR"));
    }
}

static void
test_rearm_after_reset(void)
{
    g_autoptr(VhFakeVfio) fake = fake_new(1, 4);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    VhVfioResetMethod method = VH_VFIO_RESET_NONE;
    int e0, e1;

    fake->device_flags |= VFIO_DEVICE_FLAGS_RESET;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 0, &err));
    g_assert_true(vh_vfio_device_msix_enable_vector(dev, 1, &err));
    g_assert_true(vh_vfio_device_err_enable(dev, &err));
    e0 = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 0);
    e1 = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 1);
    vh_fake_vfio_clear_log(fake);

    g_assert_true(vh_vfio_device_reset(dev, NULL, 0, &method, &err));
    g_assert_no_error(err);
    g_assert_cmpint(method, ==, VH_VFIO_RESET_DEVICE);
    g_assert_cmpuint(fake->resets, ==, 1);
    /* Reset, then MSI-X and ERR armed again with the same eventfds. */
    g_assert_cmpstr(g_ptr_array_index(fake->calls, 0), ==, "DEVICE_RESET");
    assert_set(fake, 0, 2, NONE_TRIGGER, 0, 0, NULL);
    assert_set(fake, 1, 2, EVENTFD_TRIGGER, 0, 2, (gint32[]) { e0, e1 });
    assert_set(fake, 2, 3, NONE_TRIGGER, 0, 0, NULL);
    g_assert_cmpuint(fake->irq_sets->len, ==, 4);
    assert_fires(dev, VH_VFIO_IRQ_MSIX, 1);
}

static void
test_release_on_free(void)
{
    g_autoptr(VhFakeVfio) fake = fake_new(1, 0);
    g_autoptr(GError) err = NULL;
    VhVfioDevice *dev;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_msi_enable(dev, 1, &err));
    vh_fake_vfio_clear_log(fake);
    vh_vfio_device_unref(dev);
    /* Freed: MSI disabled in the kernel. */
    g_assert_cmpuint(fake->irqs[1].enabled, ==, 0);
    assert_set(fake, 0, 1, NONE_TRIGGER, 0, 0, NULL);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("VFIO interrupts: exact vfio_irq_set bytes, lazy MSI-X "
                   "with stable eventfds, loopback triggers, re-arm");
    g_test_add_func("/vfio/irq/set-bytes", test_set_bytes);
    g_test_add_func("/vfio/irq/msix-lazy", test_msix_lazy);
    g_test_add_func("/vfio/irq/msix-resizable", test_msix_resizable);
    g_test_add_func("/vfio/irq/intx-msi", test_intx_msi);
    g_test_add_func("/vfio/irq/err-req", test_err_req);
    g_test_add_func("/vfio/irq/rearm-after-reset", test_rearm_after_reset);
    g_test_add_func("/vfio/irq/release-on-free", test_release_on_free);
    return g_test_run();
}
