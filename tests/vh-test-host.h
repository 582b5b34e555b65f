/*
 * vh-test-host.h: a host for the hostdev manager's tests: a fake sysfs
 * tree with a simulated kernel behind it, an empty /proc, the kernel's
 * /dev and a fresh state directory, put together as one VhHostdev
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "vh-fake-kernel.h"
#include "vh-hostdev.h"

typedef struct {
    VhFakeSysfs *fake;
    VhFakeSysfs *fakeproc;
    VhSysfs *sysfs;
    VhSysfs *proc;
    VhSysfs *dev;
    VhFakeKernel *kernel;
    char *state_dir;
    VhHostdev h;
} VhTestHost;

/* Builds @host around @fake (taken over: vh_test_host_clear() frees it),
 * with the state directory made from @tmp_template (g_dir_make_tmp());
 * asserts every step. */
void vh_test_host_init(VhTestHost *host, VhFakeSysfs *fake, const char *tmp_template);

/* Removes the state directory with the files the manager writes there and
 * frees everything vh_test_host_init() made. */
void vh_test_host_clear(VhTestHost *host);

/* Whether the file @name exists in @host's state directory. */
gboolean vh_test_host_state_exists(const VhTestHost *host, const char *name);

/* The address @s names; asserts that it parses. */
VhPciAddress vh_test_addr(const char *s);
