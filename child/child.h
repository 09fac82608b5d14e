/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_CHILD_H
#define NPTE_CHILD_H

/* argv[1] of the re-exec'd child; never typed by users. */
#define CHILD_ARGV1 "__npte-child"
/* The child's end of the socketpair is always this fd. */
#define CHILD_SOCK_FD 3

/**
 * child_main() - the namespace side of npte run
 * @argc: argument count
 * @argv: "npte __npte-child [--debug] -- CMD ARG..."
 *
 * Return: the payload's exit status mapped to an exit code (128+N for a
 *         signal), or 1 when set-up failed (the error went to the parent).
 */
int child_main (int argc, char **argv);

#endif /* NPTE_CHILD_H */
