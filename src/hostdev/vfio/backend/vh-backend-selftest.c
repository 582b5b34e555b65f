/*
 * vh-backend-selftest.c: device-selftest, step by step
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <stdarg.h>
#include <sys/wait.h>
#include <linux/vfio.h>

#include "vh-backend-edu.h"
#include "vh-backend-selftest.h"

#define VH_EDU_ID_VALUE 0x010000ed
#define VH_PCI_COMMAND  0x04    /* PCI30 6.2.2 */
#define VH_PCI_COMMAND_MEMORY_MASTER 0x6

typedef struct {
    const VhBackendSelftest *t;
    VhBackendClient *c;
    guint failed;
} VhSelftestRun;

static gboolean G_GNUC_PRINTF(4, 5)
vh_selftest_step(VhSelftestRun *run, const char *name, gboolean ok,
                 const char *fmt, ...)
{
    g_autofree char *evidence = NULL;
    VhBackendStep step = { .name = name, .ok = ok };
    va_list ap;

    va_start(ap, fmt);
    evidence = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    step.evidence = evidence;
    if (!ok)
        run->failed++;
    if (run->t->step)
        run->t->step(run->t->data, &step);
    return ok;
}

/* A call whose failure is the step's failure. */
static gboolean
vh_selftest_call(VhSelftestRun *run, const char *step, const char *cmd,
                 const char *fields, VhJson *ret_reply)
{
    g_autoptr(GError) local = NULL;

    if (vh_backend_client_call(run->c, cmd, fields, NULL, 0, ret_reply,
                               &local))
        return TRUE;
    return vh_selftest_step(run, step, FALSE, "%s: %s", cmd, local->message);
}

static gboolean
vh_selftest_read(VhSelftestRun *run, const char *step, guint region,
                 guint offset, guint size, guint64 *ret_value,
                 char **ret_path)
{
    g_autofree char *fields = g_strdup_printf(
        "\"region\":%u,\"offset\":%u,\"size\":%u", region, offset, size);
    g_auto(VhJson) reply = NULL;
    g_autoptr(GError) local = NULL;

    if (!vh_selftest_call(run, step, "region-read", fields, &reply))
        return FALSE;
    if (!vh_backend_reply_get_uint(reply, "value", ret_value, &local))
        return vh_selftest_step(run, step, FALSE, "%s", local->message);
    if (ret_path)
        *ret_path = g_strdup(vh_backend_reply_get_string(reply, "path"));
    return TRUE;
}

static gboolean
vh_selftest_write(VhSelftestRun *run, const char *step, guint region,
                  guint offset, guint size, guint64 value)
{
    g_autofree char *fields = g_strdup_printf(
        "\"region\":%u,\"offset\":%u,\"size\":%u,\"value\":%" G_GUINT64_FORMAT,
        region, offset, size, value);

    return vh_selftest_call(run, step, "region-write", fields, NULL);
}

/* uid, gid, no_new_privs, capabilities, fds: the backend's own account. */
static void
vh_selftest_status(VhSelftestRun *run)
{
    const VhBackendSelftest *t = run->t;
    const char *name = "backend unprivileged";
    g_auto(VhJson) reply = NULL;
    g_autoptr(GString) fds = g_string_new(NULL);
    guint64 uid = G_MAXUINT64, gid = G_MAXUINT64, nnp = 0, caps = 1,
            groups = 1, memlock = 0;
    const char *path[] = { "fds", NULL };
    yajl_val obj;
    gsize i;

    if (!vh_selftest_call(run, name, "status", NULL, &reply))
        return;
    vh_backend_reply_get_uint(reply, "uid", &uid, NULL);
    vh_backend_reply_get_uint(reply, "gid", &gid, NULL);
    vh_backend_reply_get_uint(reply, "no_new_privs", &nnp, NULL);
    vh_backend_reply_get_uint(reply, "cap_effective", &caps, NULL);
    vh_backend_reply_get_uint(reply, "groups", &groups, NULL);
    vh_backend_reply_get_uint(reply, "memlock", &memlock, NULL);
    obj = yajl_tree_get(reply, path, yajl_t_object);
    for (i = 0; obj && i < YAJL_GET_OBJECT(obj)->len; i++) {
        yajl_val v = YAJL_GET_OBJECT(obj)->values[i];

        g_string_append_printf(fds, "%s%s=%s", i ? " " : "",
                               YAJL_GET_OBJECT(obj)->keys[i],
                               YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "?");
    }
    vh_selftest_step(run, name,
                     uid == t->uid && gid == t->gid && nnp == 1 &&
                     caps == 0 && groups == 0 &&
                     (t->memlock == 0 || memlock == t->memlock),
                     "pid %d uid %" G_GUINT64_FORMAT " gid %" G_GUINT64_FORMAT
                     " (asked %u/%u), supplementary groups %" G_GUINT64_FORMAT
                     ", no_new_privs %" G_GUINT64_FORMAT ", CapEff %#"
                     G_GINT64_MODIFIER "x, RLIMIT_MEMLOCK %" G_GUINT64_FORMAT
                     "; fds: %s",
                     vh_backend_client_get_pid(run->c), uid, gid, t->uid,
                     t->gid, groups, nnp, caps, memlock, fds->str);
}

/* Config space: vendor and device as sysfs has them. */
static void
vh_selftest_config(VhSelftestRun *run)
{
    const char *name = "config space readable";
    g_auto(VhJson) r1 = NULL;
    g_auto(VhJson) r2 = NULL;
    guint64 id = 0, klass = 0;

    if (!vh_selftest_call(run, name, "config-read",
                          "\"offset\":0,\"size\":4", &r1) ||
        !vh_selftest_call(run, name, "config-read",
                          "\"offset\":8,\"size\":4", &r2))
        return;
    vh_backend_reply_get_uint(r1, "value", &id, NULL);
    vh_backend_reply_get_uint(r2, "value", &klass, NULL);
    vh_selftest_step(run, name,
                     (id & 0xffff) == run->t->vendor &&
                     id >> 16 == run->t->device_id,
                     "vendor:device %04x:%04x (sysfs: %04x:%04x), class %06x",
                     (guint) (id & 0xffff), (guint) (id >> 16),
                     run->t->vendor, run->t->device_id,
                     (guint) (klass >> 8));
}

/* Every BAR the report lists with a size: its first dword. */
static void
vh_selftest_bars(VhSelftestRun *run, yajl_val report)
{
    const char *path[] = { "regions", NULL };
    yajl_val regions = yajl_tree_get(report, path, yajl_t_array);
    gsize i;
    guint n = 0;

    for (i = 0; regions && i < YAJL_GET_ARRAY(regions)->len; i++) {
        yajl_val r = YAJL_GET_ARRAY(regions)->values[i];
        g_autofree char *name = NULL;
        guint64 index = 99, size = 0, value;
        g_autofree char *how = NULL;

        vh_backend_reply_get_uint(r, "index", &index, NULL);
        vh_backend_reply_get_uint(r, "size", &size, NULL);
        if (index > 5 || size < 4)
            continue;
        n++;
        name = g_strdup_printf("BAR%u readable", (guint) index);
        if (!vh_backend_reply_get_bool(r, "read")) {
            vh_selftest_step(run, name, FALSE, "the kernel says BAR%u (%"
                             G_GUINT64_FORMAT " bytes) is not readable",
                             (guint) index, size);
            continue;
        }
        if (vh_selftest_read(run, name, index, 0, 4, &value, &how))
            vh_selftest_step(run, name, TRUE, "%" G_GUINT64_FORMAT " bytes, "
                             "dword at 0 = %#010x by %s", size, (guint) value,
                             how ? how : "?");
    }
    if (n == 0)
        vh_selftest_step(run, "BARs readable", TRUE,
                         "the device has no memory or I/O BAR");
}

static void
vh_selftest_report(VhSelftestRun *run, VhJson *ret_report)
{
    const char *name = "device report";
    g_auto(VhJson) reply = NULL;
    const char *path_r[] = { "regions", NULL };
    const char *path_i[] = { "irqs", NULL };
    guint64 nr = 0, ni = 0, flags = 0;
    yajl_val regions, irqs;

    if (!vh_selftest_call(run, name, "report", NULL, &reply))
        return;
    vh_backend_reply_get_uint(reply, "num_regions", &nr, NULL);
    vh_backend_reply_get_uint(reply, "num_irqs", &ni, NULL);
    vh_backend_reply_get_uint(reply, "flags", &flags, NULL);
    regions = yajl_tree_get(reply, path_r, yajl_t_array);
    irqs = yajl_tree_get(reply, path_i, yajl_t_array);
    vh_selftest_step(run, name, (flags & VFIO_DEVICE_FLAGS_PCI) && nr > 0,
                     "vfio-pci device, %u regions (%u present), %u IRQ "
                     "indexes, reset: %s",
                     (guint) nr,
                     regions ? (guint) YAJL_GET_ARRAY(regions)->len : 0,
                     irqs ? (guint) ni : 0,
                     vh_backend_reply_get_string(reply, "reset") ?: "?");
    *ret_report = g_steal_pointer(&reply);
}

static void
vh_selftest_edu_registers(VhSelftestRun *run)
{
    guint32 probe = g_random_int();
    guint64 value;
    g_autofree char *how = NULL;

    if (vh_selftest_read(run, "edu ID register", 0, VH_EDU_REG_ID, 4, &value,
                         &how))
        vh_selftest_step(run, "edu ID register", value == VH_EDU_ID_VALUE,
                         "BAR0+0x00 = %#010x (expected %#010x), by %s",
                         (guint) value, VH_EDU_ID_VALUE, how ? how : "?");
    if (vh_selftest_write(run, "edu liveness register", 0,
                          VH_EDU_REG_LIVENESS, 4, probe) &&
        vh_selftest_read(run, "edu liveness register", 0,
                         VH_EDU_REG_LIVENESS, 4, &value, NULL))
        vh_selftest_step(run, "edu liveness register",
                         value == (guint32) ~probe,
                         "wrote %#010x, read back %#010x (expected the "
                         "bitwise NOT %#010x)", probe, (guint) value,
                         (guint32) ~probe);
}

static void
vh_selftest_edu_msi(VhSelftestRun *run)
{
    const char *name = "edu MSI";
    guint32 bit = 1u << g_random_int_range(0, 31);
    g_autofree char *fields = NULL;
    g_auto(VhJson) reply = NULL;
    g_auto(VhJson) cmd = NULL;
    guint64 command = 0, count = 0, latency = 0, status = G_MAXUINT64;

    /* MSI messages are memory writes: edu sends them only as a bus
     * master. */
    if (!vh_selftest_call(run, name, "config-read", "\"offset\":4,\"size\":2",
                          &cmd))
        return;
    vh_backend_reply_get_uint(cmd, "value", &command, NULL);
    fields = g_strdup_printf("\"offset\":%d,\"size\":2,\"value\":%u",
                             VH_PCI_COMMAND,
                             (guint) command | VH_PCI_COMMAND_MEMORY_MASTER);
    if (!vh_selftest_call(run, name, "config-write", fields, NULL))
        return;
    g_free(fields);
    fields = g_strdup_printf(
        "\"irq\":\"msi\",\"vector\":0,\"timeout_ms\":5000,"
        "\"trigger\":{\"region\":0,\"offset\":%d,\"size\":4,\"value\":%u},"
        "\"ack\":{\"region\":0,\"offset\":%d,\"size\":4,\"value\":%u}",
        VH_EDU_REG_IRQ_RAISE, bit, VH_EDU_REG_IRQ_ACK, bit);
    if (!vh_selftest_call(run, name, "irq-test", fields, &reply))
        return;
    vh_backend_reply_get_uint(reply, "count", &count, NULL);
    vh_backend_reply_get_uint(reply, "latency_us", &latency, NULL);
    if (!vh_selftest_read(run, name, 0, VH_EDU_REG_IRQ_STATUS, 4, &status,
                          NULL))
        return;
    vh_selftest_step(run, name,
                     vh_backend_reply_get_bool(reply, "fired") && count >= 1 &&
                     status == 0,
                     "wrote %#x to BAR0+0x60, eventfd woke after %"
                     G_GUINT64_FORMAT " us (count %" G_GUINT64_FORMAT "), "
                     "acknowledged at 0x64: interrupt status now %#x",
                     bit, latency, count, (guint) status);
}

static void
vh_selftest_edu_dma(VhSelftestRun *run)
{
    g_autofree char *fields = g_strdup_printf(
        "\"iova\":%d,\"length\":%d,\"unmapped_iova\":%d",
        VH_BACKEND_EDU_IOVA, 2048,
        VH_BACKEND_EDU_IOVA + VH_BACKEND_EDU_UNMAPPED_GAP);
    g_auto(VhJson) reply = NULL;
    guint64 mismatches = 1, changed = 1, first = 0, sum = 0, len = 0, us = 0;
    yajl_val v;
    const char *path[] = { "first_mismatch", NULL };
    g_autofree char *where = NULL;

    if (!vh_selftest_call(run, "edu DMA round trip", "dma-test", fields,
                          &reply)) {
        vh_selftest_step(run, "edu DMA to an unmapped IOVA", FALSE,
                         "not run: the round trip failed");
        return;
    }
    vh_backend_reply_get_uint(reply, "mismatches", &mismatches, NULL);
    vh_backend_reply_get_uint(reply, "unmapped_changed", &changed, NULL);
    vh_backend_reply_get_uint(reply, "checksum", &sum, NULL);
    vh_backend_reply_get_uint(reply, "length", &len, NULL);
    vh_backend_reply_get_uint(reply, "elapsed_us", &us, NULL);
    v = yajl_tree_get(reply, path, yajl_t_any);
    if (v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0)
        first = YAJL_GET_INTEGER(v);
    if (mismatches)
        where = g_strdup_printf(", first at offset %" G_GUINT64_FORMAT, first);
    vh_selftest_step(run, "edu DMA round trip", mismatches == 0,
                     "%" G_GUINT64_FORMAT " random bytes (sum %"
                     G_GUINT64_FORMAT ") RAM@IOVA %#x -> device 0x40000 -> "
                     "RAM@IOVA %#x: %" G_GUINT64_FORMAT " bytes differ%s",
                     len, sum, VH_BACKEND_EDU_IOVA, VH_BACKEND_EDU_IOVA + 4096,
                     mismatches, where ? where : "");
    vh_selftest_step(run, "edu DMA to an unmapped IOVA", changed == 0,
                     "page mapped at IOVA %#x then unmapped; device wrote %"
                     G_GUINT64_FORMAT " bytes there: %" G_GUINT64_FORMAT
                     " bytes of the page changed",
                     VH_BACKEND_EDU_IOVA + VH_BACKEND_EDU_UNMAPPED_GAP, len,
                     changed);
}

/* Open the group and container as the manager does (root). */
static gboolean
vh_selftest_open(const VhBackendSelftest *t, VhVfioGroup **ret_group,
                 VhVfioContainer **ret_container, GError **error)
{
    g_autoptr(VhVfioGroup) group = NULL;
    g_autoptr(VhVfioContainer) container = NULL;

    if (!(group = vh_vfio_group_new(t->ops, t->ops_data, t->group_id, error)) ||
        !vh_vfio_group_check_viable(group, vh_vfio_group_blockers_sysfs,
                                    (gpointer) t->sysfs, error) ||
        !(container = vh_vfio_container_new(t->ops, t->ops_data, error))) {
        g_prefix_error(error, "%s: ", t->device);
        return FALSE;
    }
    *ret_group = g_steal_pointer(&group);
    *ret_container = g_steal_pointer(&container);
    return TRUE;
}

gboolean
vh_backend_selftest_run(const VhBackendSelftest *t, guint *ret_failed,
                        GError **error)
{
    g_autoptr(VhVfioGroup) group = NULL;
    g_autoptr(VhVfioContainer) container = NULL;
    g_autoptr(VhBackendClient) c = NULL;
    g_auto(VhJson) report = NULL;
    VhBackendLaunch l = {
        .program = t->program,
        .device = t->device,
        .group_id = t->group_id,
        .pass = t->pass,
        .uid = t->uid,
        .gid = t->gid,
        .memlock = t->memlock,
    };
    VhSelftestRun run = { .t = t };
    int status = 0;

    if (!vh_selftest_open(t, &group, &container, error))
        return FALSE;
    l.group_fd = vh_vfio_group_get_fd(group);
    l.container_fd = vh_vfio_container_get_fd(container);
    if (!(c = vh_backend_client_spawn(&l, error))) {
        g_prefix_error(error, "%s: ", t->device);
        return FALSE;
    }
    /* The backend has its own copies now; the manager keeps none. */
    g_clear_pointer(&group, vh_vfio_group_unref);
    g_clear_pointer(&container, vh_vfio_container_unref);
    run.c = c;
    vh_selftest_step(&run, "fd handover", TRUE,
                     "/dev/vfio/%d and /dev/vfio/vfio opened by the manager, "
                     "group viable, passed %s to backend pid %d",
                     t->group_id,
                     t->pass == VH_BACKEND_PASS_SOCKET ?
                     "over its socket (SCM_RIGHTS)" : "as inherited fds 4 and 5",
                     vh_backend_client_get_pid(c));

    vh_selftest_status(&run);
    vh_selftest_report(&run, &report);
    vh_selftest_config(&run);
    if (report)
        vh_selftest_bars(&run, report);
    if (t->vendor == VH_BACKEND_EDU_VENDOR &&
        t->device_id == VH_BACKEND_EDU_DEVICE) {
        vh_selftest_edu_registers(&run);
        vh_selftest_edu_msi(&run);
        vh_selftest_edu_dma(&run);
    }
    if (t->pause)
        t->pause(t->data, vh_backend_client_get_pid(c));
    {
        g_autoptr(GError) local = NULL;

        if (!vh_backend_client_quit(c, &status, &local))
            vh_selftest_step(&run, "backend quit", FALSE, "%s", local->message);
        else
            vh_selftest_step(&run, "backend quit",
                             WIFEXITED(status) && WEXITSTATUS(status) == 0,
                             "pid %d exited with status %d",
                             vh_backend_client_get_pid(c),
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    *ret_failed = run.failed;
    return TRUE;
}
