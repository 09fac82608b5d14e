/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The split of npte's executable (see docs/architecture.md, "One binary, two halves").
 *
 * The executable `npte` is a small launcher: it holds the namespace-side child
 * (`npte __npte-child`) and links only glib, libev and libmnl. Every other command lives in
 * the module NPTE_CLI_MODULE, which the launcher dlopen()s, and enters through
 * NPTE_CLI_ENTRY. The module also exports NPTE_CLI_BUILD_ID so that a launcher never runs a
 * module of another build.
 */
#ifndef NPTE_LAUNCH_H
#define NPTE_LAUNCH_H

#define NPTE_CLI_MODULE "npte-cli.so"
#define NPTE_CLI_ENTRY "npte_cli_main"
#define NPTE_CLI_BUILD_ID_SYMBOL "npte_cli_build_id"

/* The module is built with hidden visibility; these two are its only exports. */
#define NPTE_CLI_EXPORT __attribute__ ((visibility ("default")))

/* npte_cli_main() - the whole npte command line but the child; argv as main()'s. */
typedef int (*NpteCliMain) (int argc, char **argv);

#endif /* NPTE_LAUNCH_H */
