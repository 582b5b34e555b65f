/*
 * vh-bench-true.c: a program that does nothing, for bench/nodedev's
 * process-start breakdown (built twice: against libc, and static).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
int
main(void)
{
    return 0;
}
