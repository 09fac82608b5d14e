/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_IDMAP_H
#define NPTE_IDMAP_H

#include <glib.h>
#include <sys/types.h>

/*
 * uid/gid maps of the child's user namespace. As rootlesskit: with
 * newuidmap/newgidmap and /etc/subuid, /etc/subgid ranges, map 0 -> the
 * caller's id and stack the sub-ranges from 1; otherwise map 0 -> the
 * caller's id alone. Started by root: an identity map of every id.
 */

typedef struct {
  guint32 start;
  guint32 count;
} IdRange;

/**
 * idmap_parse_subid() - the ranges /etc/subuid (or subgid) grants a user
 * @content: file contents, "NAME_OR_ID:START:COUNT" lines
 * @name: user (or group) name, may be NULL
 * @id: numeric uid (or gid)
 *
 * Lines whose first field is @name or the decimal @id count; malformed
 * lines, comments and zero counts are skipped.
 *
 * Return: (transfer full) GArray of IdRange in file order.
 */
GArray *idmap_parse_subid (const char *content, const char *name, guint32 id);

/**
 * idmap_helper_args() - the id triples for newuidmap/newgidmap
 * @id: the caller's uid or gid (mapped to 0)
 * @ranges: sub-ranges (stacked from 1)
 *
 * Return: (transfer full) NULL-terminated strv "0 ID 1 1 S1 C1 1+C1 S2 C2 ...",
 *         one number per element.
 */
char **idmap_helper_args (guint32 id, const GArray *ranges);

/**
 * idmap_setup() - write the uid and gid maps of @pid's user namespace
 * @pid: the child, already in its new user namespace
 * @error: error when not even the single-id map can be written
 *
 * Return: TRUE on success. A failing newuidmap is reported with a warning
 *         and the single-id map is used instead.
 */
gboolean idmap_setup (pid_t pid, GError **error);

#endif /* NPTE_IDMAP_H */
