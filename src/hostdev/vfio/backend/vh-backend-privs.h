/*
 * vh-backend-privs.h: the backend gives up root before it touches a device
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* What the process is, as the kernel says (for reports and checks). */
typedef struct {
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    guint n_groups;             /* supplementary groups */
    guint64 cap_permitted;      /* first two capability words */
    guint64 cap_effective;
    int no_new_privs;           /* prctl(PR_GET_NO_NEW_PRIVS) */
} VhBackendCreds;

/* Read the process's ids, capabilities and no_new_privs. */
gboolean vh_backend_creds_get(VhBackendCreds *ret_creds, GError **error);

/*
 * Become @uid/@gid for good: as root, drop the supplementary groups
 * (setgroups(0)), then setresgid() and setresuid(); then set no_new_privs.
 * Then verify: every uid is @uid and every gid @gid, no supplementary
 * group, no capability left, no_new_privs is 1, and setuid(0), setgid(0)
 * and setgroups() fail with EPERM.  @uid 0 is refused (that would keep
 * root).  Not root already: only @uid/@gid equal to the process's own ids
 * are accepted.
 */
gboolean vh_backend_drop_privileges(uid_t uid, gid_t gid, GError **error);

G_END_DECLS
