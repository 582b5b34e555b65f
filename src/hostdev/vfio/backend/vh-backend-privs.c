/*
 * vh-backend-privs.c: dropping root for good, and proving it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vh-backend-privs.h"
#include "vh-backend-proto.h"

gboolean
vh_backend_creds_get(VhBackendCreds *ret_creds, GError **error)
{
    struct __user_cap_header_struct hdr = {
        .version = _LINUX_CAPABILITY_VERSION_3,
        .pid = 0,
    };
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
    VhBackendCreds c = { 0 };
    int n;

    if (getresuid(&c.ruid, &c.euid, &c.suid) < 0 ||
        getresgid(&c.rgid, &c.egid, &c.sgid) < 0 ||
        (n = getgroups(0, NULL)) < 0 ||
        syscall(SYS_capget, &hdr, data) < 0 ||
        (c.no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)) < 0) {
        int saved_errno = errno;

        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                    "reading the process's credentials: %s",
                    g_strerror(saved_errno));
        return FALSE;
    }
    c.n_groups = n;
    c.cap_permitted = data[0].permitted | (guint64) data[1].permitted << 32;
    c.cap_effective = data[0].effective | (guint64) data[1].effective << 32;
    *ret_creds = c;
    return TRUE;
}

static gboolean
vh_backend_privs_fail(const char *what, int saved_errno, GError **error)
{
    g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                "%s: %s", what, g_strerror(saved_errno));
    return FALSE;
}

/* @what must fail with EPERM now that root is gone. */
static gboolean
vh_backend_privs_expect_eperm(int ret, int saved_errno, const char *what,
                              GError **error)
{
    if (ret == 0) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "%s succeeded after dropping privileges: root can be "
                    "regained; refusing to run", what);
        return FALSE;
    }
    if (saved_errno != EPERM) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "%s failed with %s instead of EPERM", what,
                    g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_backend_privs_verify(uid_t uid, gid_t gid, GError **error)
{
    VhBackendCreds c;
    gid_t group = gid;
    int ret;

    if (!vh_backend_creds_get(&c, error))
        return FALSE;
    if (c.ruid != uid || c.euid != uid || c.suid != uid ||
        c.rgid != gid || c.egid != gid || c.sgid != gid) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "after dropping privileges the ids are uid %u/%u/%u gid "
                    "%u/%u/%u, not %u and %u", c.ruid, c.euid, c.suid,
                    c.rgid, c.egid, c.sgid, uid, gid);
        return FALSE;
    }
    if (c.n_groups != 0 && !(c.n_groups == 1 && getgroups(1, &group) == 1 &&
                             group == gid)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "after dropping privileges %u supplementary groups are "
                    "left", c.n_groups);
        return FALSE;
    }
    if (c.cap_permitted || c.cap_effective) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "after dropping privileges capabilities are left "
                    "(permitted %#" G_GINT64_MODIFIER "x, effective %#"
                    G_GINT64_MODIFIER "x)", c.cap_permitted, c.cap_effective);
        return FALSE;
    }
    if (c.no_new_privs != 1) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "no_new_privs is %d after setting it", c.no_new_privs);
        return FALSE;
    }
    ret = setuid(0);
    if (!vh_backend_privs_expect_eperm(ret, errno, "setuid(0)", error))
        return FALSE;
    ret = setgid(0);
    if (!vh_backend_privs_expect_eperm(ret, errno, "setgid(0)", error))
        return FALSE;
    ret = setgroups(0, NULL);
    return vh_backend_privs_expect_eperm(ret, errno, "setgroups(0)", error);
}

gboolean
vh_backend_drop_privileges(uid_t uid, gid_t gid, GError **error)
{
    if (uid == 0) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "uid 0 would keep root; give the backend an "
                    "unprivileged uid (e.g. 65534)");
        return FALSE;
    }
    if (geteuid() == 0) {
        /* Groups first: once the uid is gone, they cannot be changed. */
        if (setgroups(0, NULL) < 0)
            return vh_backend_privs_fail("setgroups(0)", errno, error);
        if (setresgid(gid, gid, gid) < 0)
            return vh_backend_privs_fail("setresgid", errno, error);
        if (setresuid(uid, uid, uid) < 0)
            return vh_backend_privs_fail("setresuid", errno, error);
    } else if (getuid() != uid || getgid() != gid) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PRIVILEGE,
                    "not root: cannot become uid %u gid %u (running as uid "
                    "%u gid %u); start the backend as root or with its own "
                    "ids", uid, gid, getuid(), getgid());
        return FALSE;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return vh_backend_privs_fail("prctl(PR_SET_NO_NEW_PRIVS)", errno,
                                     error);
    return vh_backend_privs_verify(uid, gid, error);
}
