/* SPDX-License-Identifier: Apache-2.0 */
/*
 * npte's executable: the namespace-side child, and a launcher for everything else.
 *
 * Every npte instance keeps two processes for its whole life: the parent and the child the
 * parent re-execs from this same binary as "npte __npte-child". The child only needs glib,
 * libev and libmnl, so this executable links just those. The command line, the parent, the
 * API (libmicrohttpd and the TLS stack it drags in), JSON, libslirp and libseccomp live in the
 * module npte-cli.so, loaded here with dlopen() for every command but the child. The child
 * thus maps 6 libraries instead of 27: it starts about 3 ms sooner and its resident set is
 * less than half (numbers in docs/performance.md).
 *
 * The module is looked for next to the executable first (a build tree, or a relocated copy),
 * then in the directory it is installed to; it must come from the same build.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "child.h"
#include "config.h"
#include "launch.h"
#include "npte-commit.h"

int main (int argc, char **argv);

/* What the module's NPTE_CLI_BUILD_ID_SYMBOL must hold. */
static const char build_id[] = NPTE_VERSION " " NPTE_COMMIT;

/**
 * exe_dir() - the directory of the running executable
 *
 * Return: a newly allocated path, or NULL when /proc/self/exe cannot be read.
 */
static char *
exe_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe == NULL)
    return NULL;
  /* An executable replaced while running reads as "PATH (deleted)": its module is gone too. */
  if (g_str_has_suffix (exe, " (deleted)"))
    return NULL;
  return g_path_get_dirname (exe);
}

/**
 * try_load() - dlopen() one candidate and check that it belongs to this build
 * @path: the candidate module
 * @why: (out) on failure, why (appended to)
 *
 * Return: the module's entry point, or NULL.
 */
static NpteCliMain
try_load (const char *path, GString *why)
{
  void *handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);

  if (handle == NULL)
    {
      g_string_append_printf (why, "\n  %s", dlerror ());
      return NULL;
    }
  const char *id = dlsym (handle, NPTE_CLI_BUILD_ID_SYMBOL);
  NpteCliMain entry = (NpteCliMain) dlsym (handle, NPTE_CLI_ENTRY);
  if (id == NULL || entry == NULL || strcmp (id, build_id) != 0)
    {
      g_string_append_printf (why, "\n  %s: from another build (%s, this npte is %s)", path,
                              id != NULL ? id : "no build id", build_id);
      dlclose (handle);
      return NULL;
    }
  return entry;
}

/**
 * load_cli() - find and load npte-cli.so
 *
 * Exits with status 1 and one message naming every place tried when no module fits.
 *
 * Return: the module's entry point.
 */
static NpteCliMain
load_cli (void)
{
  g_autoptr (GString) why = g_string_new (NULL);
  g_autofree char *dir = exe_dir ();
  NpteCliMain entry = NULL;

  if (dir != NULL)
    {
      g_autofree char *local = g_build_filename (dir, NPTE_CLI_MODULE, NULL);
      if (g_file_test (local, G_FILE_TEST_EXISTS))
        entry = try_load (local, why);
    }
  if (entry == NULL)
    entry = try_load (NPTE_MODULE_DIR "/" NPTE_CLI_MODULE, why);
  if (entry == NULL)
    {
      fprintf (stderr, "npte: cannot load its module %s:%s\n", NPTE_CLI_MODULE, why->str);
      exit (1);
    }
  return entry;
}

int
main (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], CHILD_ARGV1) == 0)
    return child_main (argc, argv);
  return load_cli () (argc, argv);
}
