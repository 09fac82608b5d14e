/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Standalone driver for the fuzz targets: feeds every file of the corpus
 * directories given on the command line to LLVMFuzzerTestOneInput(), so the
 * committed corpora run as regression tests in every build (no clang needed).
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int main (int argc, char **argv);

int
main (int argc, char **argv)
{
  guint n = 0;

  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GDir) dir = g_dir_open (argv[i], 0, &error);
      const char *name;

      if (dir == NULL)
        {
          fprintf (stderr, "replay: %s\n", error->message);
          return 1;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (argv[i], name, NULL);
          g_autofree char *data = NULL;
          gsize len;

          if (!g_file_get_contents (path, &data, &len, &error))
            {
              fprintf (stderr, "replay: %s\n", error->message);
              return 1;
            }
          LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
          n++;
        }
    }
  if (n == 0)
    {
      fprintf (stderr, "replay: no corpus inputs found\n");
      return 1;
    }
  printf ("replayed %u inputs\n", n);
  return 0;
}
