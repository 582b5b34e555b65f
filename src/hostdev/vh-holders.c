/*
 * vh-holders.c: the processes that have an IOMMU group's /dev/vfio/N open
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.holders"

#include "vh-error.h"
#include "vh-holders.h"

void
vh_holder_free(VhHolder *holder)
{
    if (!holder)
        return;
    g_free(holder->comm);
    g_free(holder);
}

/* A /proc entry that is a process: all digits, a pid that fits. */
static gboolean
vh_holders_parse_pid(const char *name, guint *ret_pid)
{
    guint64 pid = 0;
    const char *p;

    for (p = name; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
    }
    if (!g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT, &pid, NULL))
        return FALSE;
    *ret_pid = (guint) pid;
    return TRUE;
}

/* comm is any bytes but NUL (prctl PR_SET_NAME): keep it to printable
 * ASCII, the same on every terminal, in every locale and in JSON. */
static char *
vh_holders_printable(const char *comm)
{
    char *s = g_strdup(comm);
    char *p;

    for (p = s; *p; p++) {
        if (!g_ascii_isprint(*p))
            *p = '?';
    }
    return s;
}

/*
 * Whether @pid has @node open: TRUE with *@ret_holds, or FALSE when its
 * fds cannot be read; *@ret_gone when the process exited meanwhile.
 */
static gboolean
vh_holders_check_pid(const VhSysfs *proc, const char *pid, const char *node,
                     gboolean *ret_holds, gboolean *ret_gone, GError **error)
{
    g_autofree char *fddir = g_strconcat(pid, "/fd", NULL);
    g_autoptr(VhSysfs) fds = NULL;
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GError) local = NULL;
    guint i;

    fds = vh_sysfs_open_subdir(proc, fddir, &local);
    if (!fds) {
        /* The process exited since /proc was listed: not an error. */
        if (g_error_matches(local, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND)) {
            *ret_holds = FALSE;
            *ret_gone = TRUE;
            return TRUE;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!vh_sysfs_list(fds, "", &names, error))
        return FALSE;
    if (!names) {
        *ret_holds = FALSE;
        *ret_gone = TRUE;
        return TRUE;
    }
    for (i = 0; i < names->len; i++) {
        g_autofree char *target = NULL;

        if (!vh_sysfs_read_link(fds, g_ptr_array_index(names, i), &target,
                                error))
            return FALSE;
        /* NULL: closed since the listing. */
        if (target && g_str_equal(target, node)) {
            *ret_holds = TRUE;
            *ret_gone = FALSE;
            return TRUE;
        }
    }
    *ret_holds = FALSE;
    *ret_gone = FALSE;
    return TRUE;
}

static gint
vh_holders_compare(gconstpointer a, gconstpointer b)
{
    const VhHolder *ha = *(const VhHolder * const *) a;
    const VhHolder *hb = *(const VhHolder * const *) b;

    return ha->pid < hb->pid ? -1 : ha->pid > hb->pid;
}

gboolean
vh_holders_scan(const VhSysfs *proc, guint group, GPtrArray **ret_holders,
                guint *ret_unreadable, GError **error)
{
    g_autofree char *node = g_strdup_printf("/dev/vfio/%u", group);
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GPtrArray) holders = NULL;
    guint unreadable = 0;
    guint i;

    if (!vh_sysfs_list(proc, "", &names, error))
        return FALSE;
    if (!names) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND,
                    "cannot list the processes: %s is gone",
                    vh_sysfs_get_root(proc));
        return FALSE;
    }
    holders = g_ptr_array_new_with_free_func((GDestroyNotify) vh_holder_free);
    for (i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autoptr(GError) local = NULL;
        g_autofree char *comm = NULL;
        gboolean holds = FALSE;
        gboolean gone = FALSE;
        VhHolder *holder;
        guint pid;

        if (!vh_holders_parse_pid(name, &pid))
            continue;
        if (!vh_holders_check_pid(proc, name, node, &holds, &gone, &local)) {
            g_debug("pid %s: fds not read: %s", name, local->message);
            unreadable++;
            continue;
        }
        if (gone || !holds)
            continue;
        {
            g_autofree char *commpath = g_strconcat(name, "/comm", NULL);
            g_autoptr(GError) cerr = NULL;

            if (!vh_sysfs_read(proc, commpath, &comm, &cerr))
                g_debug("pid %s: no name: %s", name, cerr->message);
        }
        holder = g_new0(VhHolder, 1);
        holder->pid = pid;
        holder->comm = comm ? vh_holders_printable(comm) : NULL;
        g_ptr_array_add(holders, holder);
    }
    g_ptr_array_sort(holders, vh_holders_compare);
    *ret_holders = g_steal_pointer(&holders);
    *ret_unreadable = unreadable;
    return TRUE;
}
