/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_COMMANDS_H
#define NPTE_COMMANDS_H

/*
 * Sub-commands of the npte binary besides run and attach, each in its own
 * file. Each takes argv with argv[0] = the sub-command name and returns the
 * exit code.
 */

typedef struct {
  const char *name;
  int (*main) (int argc, char **argv);
} NpteCommand;

/* NULL-terminated table, in src/npte.c. */
extern const NpteCommand npte_commands[];

/* npte slirp4netns (src/cmd-slirp4netns.c); also npte run as slirp4netns / npte-slirp4netns. */
int cmd_slirp4netns (int argc, char **argv);

/* npte netns and its keeper, npte __netns-keeper (src/cmd-netns.c). */
int cmd_netns (int argc, char **argv);
int cmd_netns_keeper (int argc, char **argv);

/* npte network: named networks of managed namespaces (src/cmd-network.c). */
int cmd_network (int argc, char **argv);

#endif /* NPTE_COMMANDS_H */
