/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of parent/idmap.c: parsing /etc/subuid and /etc/subgid content
 * (matching by name and by id, comments, blank lines, every kind of
 * malformed line, 32-bit limits, CRLF and whitespace) and the id triples
 * handed to newuidmap/newgidmap (map 0 -> the caller, stack the sub-ranges
 * from 1, cut off what does not fit below 2^32 - 1).
 *
 * idmap_setup() needs a child in a fresh user namespace and the setuid
 * helpers; it is covered by the integration tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "idmap.h"

int main (void);

/* Longest expected range list in a table row. */
#define MAX_RANGES 4

/* The largest valid id: 2^32 - 1 itself is (uid_t) -1, "no id". */
#define MAX_ID G_MAXUINT32

/**
 * struct ParseCase - one row of the idmap_parse_subid() table
 * @desc: what the row checks, printed on failure
 * @content: file contents given to the parser
 * @name: user name, or NULL
 * @id: numeric id
 * @n: number of ranges expected
 * @want: the expected ranges, in order
 */
typedef struct {
  const char *desc;
  const char *content;
  const char *name;
  guint32 id;
  guint n;
  IdRange want[MAX_RANGES];
} ParseCase;

static const ParseCase parse_cases[] = {
  /* Empty input. */
  { "NULL content", NULL, "alice", 1000, 0, { { 0, 0 } } },
  { "empty content", "", "alice", 1000, 0, { { 0, 0 } } },
  { "only newlines", "\n\n\n", "alice", 1000, 0, { { 0, 0 } } },

  /* Matching the owner field. */
  { "by name", "alice:100000:65536\n", "alice", 1000, 1, { { 100000, 65536 } } },
  { "by id", "1000:100000:65536\n", "alice", 1000, 1, { { 100000, 65536 } } },
  { "by id, NULL name", "1000:100000:65536\n", NULL, 1000, 1, { { 100000, 65536 } } },
  { "NULL name never matches a name", "alice:100000:65536\n", NULL, 1000, 0, { { 0, 0 } } },
  { "id 0", "root:1:2\n0:3:4\n", NULL, 0, 1, { { 3, 4 } } },
  { "largest id", "4294967295:10:20\n", NULL, MAX_ID, 1, { { 10, 20 } } },
  { "numeric user name", "1234:10:20\n1000:30:40\n", "1234", 1000, 2, { { 10, 20 }, { 30, 40 } } },
  { "other users ignored",
    "bob:100000:65536\nalice:165536:65536\n1001:231072:65536\ncarol:296608:65536\n", "alice", 1000,
    1, { { 165536, 65536 } } },
  { "name is case sensitive", "Alice:1:2\nALICE:3:4\n", "alice", 1000, 0, { { 0, 0 } } },
  { "name prefix or extension does not match", "alic:1:2\nalicex:3:4\nalice.x:5:6\n", "alice", 1000,
    0, { { 0, 0 } } },
  { "id prefix or extension does not match", "100:1:2\n10000:3:4\n1000x:5:6\n", NULL, 1000, 0,
    { { 0, 0 } } },
  { "id with leading zero or sign does not match", "01000:1:2\n+1000:3:4\n", NULL, 1000, 0,
    { { 0, 0 } } },
  { "empty owner field", ":1:2\n", "alice", 1000, 0, { { 0, 0 } } },

  /* Comments and blank lines. */
  { "comments", "# alice:1:2\n#alice:3:4\n#1000:5:6\nalice:7:8\n", "alice", 1000, 1, { { 7, 8 } } },
  { "indented comment", "   # alice:1:2\n\t#alice:3:4\n", "alice", 1000, 0, { { 0, 0 } } },
  { "a name starting with # is a comment", "#alice:1:2\n", "#alice", 1000, 0, { { 0, 0 } } },
  { "trailing comment makes the line malformed", "alice:1:2 # comment\nalice:3:4#x\n", "alice",
    1000, 0, { { 0, 0 } } },
  { "blank lines", "\n\nalice:1:2\n   \n\t\n\nalice:3:4\n\n", "alice", 1000, 2,
    { { 1, 2 }, { 3, 4 } } },
  { "no final newline", "bob:1:2\nalice:3:4", "alice", 1000, 1, { { 3, 4 } } },

  /* Wrong number of fields. */
  { "two fields", "alice:100000\n", "alice", 1000, 0, { { 0, 0 } } },
  { "one field", "alice\n", "alice", 1000, 0, { { 0, 0 } } },
  { "four fields", "alice:1:2:3\n", "alice", 1000, 0, { { 0, 0 } } },
  { "trailing colon", "alice:1:2:\n", "alice", 1000, 0, { { 0, 0 } } },
  { "leading colon", ":alice:1:2\n", "alice", 1000, 0, { { 0, 0 } } },
  { "empty numbers", "alice::\nalice::2\nalice:1:\n", "alice", 1000, 0, { { 0, 0 } } },

  /* Numbers that are not plain unsigned decimals. */
  { "non-numeric start", "alice:abc:10\n", "alice", 1000, 0, { { 0, 0 } } },
  { "non-numeric count", "alice:10:abc\n", "alice", 1000, 0, { { 0, 0 } } },
  { "trailing garbage", "alice:10x:10\nalice:10:10x\n", "alice", 1000, 0, { { 0, 0 } } },
  { "hex", "alice:0x10:10\nalice:10:0x10\n", "alice", 1000, 0, { { 0, 0 } } },
  { "float and exponent", "alice:1.5:10\nalice:10:1e3\n", "alice", 1000, 0, { { 0, 0 } } },
  { "negative start", "alice:-1:10\n", "alice", 1000, 0, { { 0, 0 } } },
  { "negative count", "alice:10:-5\n", "alice", 1000, 0, { { 0, 0 } } },
  { "plus sign", "alice:+10:10\nalice:10:+10\n", "alice", 1000, 0, { { 0, 0 } } },
  { "leading zeros are decimal", "alice:0100000:010\n", "alice", 1000, 1, { { 100000, 10 } } },

  /* 32-bit limits. */
  { "start above UINT32", "alice:4294967296:1\n", "alice", 1000, 0, { { 0, 0 } } },
  { "count above UINT32", "alice:0:4294967296\n", "alice", 1000, 0, { { 0, 0 } } },
  { "above UINT64", "alice:99999999999999999999:1\nalice:1:99999999999999999999\n", "alice",
    1000, 0, { { 0, 0 } } },
  { "start + count = 2^32", "alice:4294967295:1\nalice:4294901760:65536\n", "alice", 1000, 0,
    { { 0, 0 } } },
  { "start + count = 2^32 - 1 fits", "alice:4294901759:65536\n", "alice", 1000, 1,
    { { 4294901759u, 65536 } } },
  { "whole space but -1", "alice:0:4294967295\n", "alice", 1000, 1, { { 0, 4294967295u } } },
  { "whole space from 1", "alice:1:4294967295\n", "alice", 1000, 0, { { 0, 0 } } },
  { "start 0", "alice:0:1\n", "alice", 1000, 1, { { 0, 1 } } },
  { "count 0 skipped", "alice:100000:0\nalice:5:6\n", "alice", 1000, 1, { { 5, 6 } } },
  { "count 1", "alice:100000:1\n", "alice", 1000, 1, { { 100000, 1 } } },

  /* Several ranges. */
  { "file order, name and id mixed",
    "alice:200000:65536\n1000:100000:65536\nbob:1:1\nalice:300000:10\n", "alice", 1000, 3,
    { { 200000, 65536 }, { 100000, 65536 }, { 300000, 10 } } },
  { "malformed lines between good ones",
    "alice:1:2\nalice:x:2\nalice:3:0\nalice:3\n# alice:9:9\nalice:4:5\n", "alice", 1000, 2,
    { { 1, 2 }, { 4, 5 } } },
  { "duplicates kept", "alice:1:2\nalice:1:2\n", "alice", 1000, 2, { { 1, 2 }, { 1, 2 } } },
  { "overlapping kept", "alice:100:50\nalice:120:50\n", "alice", 1000, 2,
    { { 100, 50 }, { 120, 50 } } },

  /* Line endings and whitespace: whole lines are stripped, fields are not. */
  { "CRLF", "alice:100000:65536\r\nbob:1:2\r\nalice:200000:10\r\n", "alice", 1000, 2,
    { { 100000, 65536 }, { 200000, 10 } } },
  { "CRLF without final newline", "alice:100000:65536\r", "alice", 1000, 1,
    { { 100000, 65536 } } },
  { "leading and trailing whitespace", "  alice:1:2  \n\talice:3:4\t\n \t1000:5:6 \r\n", "alice",
    1000, 3, { { 1, 2 }, { 3, 4 }, { 5, 6 } } },
  { "space around the name", "alice :1:2\n", "alice", 1000, 0, { { 0, 0 } } },
  { "space before start", "alice: 1:2\n", "alice", 1000, 0, { { 0, 0 } } },
  { "space after start", "alice:1 :2\n", "alice", 1000, 0, { { 0, 0 } } },
  { "space before count", "alice:1: 2\n", "alice", 1000, 0, { { 0, 0 } } },
  { "tab inside", "alice:\t1:2\n", "alice", 1000, 0, { { 0, 0 } } },
  { "lone CR is not a line break", "alice:1:2\ralice:3:4\n", "alice", 1000, 0, { { 0, 0 } } },
};

/**
 * check_ranges() - assert that @got holds exactly @n ranges equal to @want
 * @desc: row description, printed on failure
 * @got: the parser's result
 * @want: expected ranges
 * @n: expected count
 */
static void
check_ranges (const char *desc, const GArray *got, const IdRange *want, guint n)
{
  assert_non_null (got);
  assert_int_equal (g_array_get_element_size ((GArray *) got), sizeof (IdRange));
  if (got->len != n)
    print_error ("%s: %u ranges, want %u\n", desc, got->len, n);
  assert_int_equal (got->len, n);
  for (guint i = 0; i < n; i++)
    {
      const IdRange *r = &g_array_index (got, IdRange, i);

      if (r->start != want[i].start || r->count != want[i].count)
        print_error ("%s: range %u is %u:%u, want %u:%u\n", desc, i, r->start, r->count,
                     want[i].start, want[i].count);
      assert_int_equal (r->start, want[i].start);
      assert_int_equal (r->count, want[i].count);
    }
}

static void
test_parse_table (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (parse_cases); i++)
    {
      const ParseCase *c = &parse_cases[i];
      g_autoptr (GArray) got = idmap_parse_subid (c->content, c->name, c->id);

      check_ranges (c->desc, got, c->want, c->n);
    }
}

/* The parser works on a copy: the caller's buffer is not modified. */
static void
test_parse_keeps_input (void **state)
{
  const char *text = "  alice:1:2\r\n# x\nbob:3:4\n";
  g_autofree char *copy = g_strdup (text);
  g_autoptr (GArray) got = idmap_parse_subid (copy, "alice", 1000);
  const IdRange want[] = { { 1, 2 } };

  check_ranges ("keeps input", got, want, 1);
  assert_string_equal (copy, text);
}

/* A long file: every other line is ours, all are kept in order. */
static void
test_parse_many (void **state)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GArray) got = NULL;

  for (guint i = 0; i < 2000; i++)
    g_string_append_printf (text, "%s:%u:%u\n", i % 2 == 0 ? "alice" : "bob", 100000 + i * 10,
                            i + 1);
  got = idmap_parse_subid (text->str, "alice", 1000);
  assert_int_equal (got->len, 1000);
  for (guint i = 0; i < got->len; i++)
    {
      const IdRange *r = &g_array_index (got, IdRange, i);

      assert_int_equal (r->start, 100000 + 2 * i * 10);
      assert_int_equal (r->count, 2 * i + 1);
    }
}

/**
 * struct ArgsCase - one row of the idmap_helper_args() table
 * @desc: what the row checks
 * @id: the caller's id
 * @n: number of ranges
 * @ranges: sub-ranges, in order
 * @want: the expected triples, space-separated
 */
typedef struct {
  const char *desc;
  guint32 id;
  guint n;
  IdRange ranges[MAX_RANGES];
  const char *want;
} ArgsCase;

static const ArgsCase args_cases[] = {
  { "no ranges", 1000, 0, { { 0, 0 } }, "0 1000 1" },
  { "no ranges, id 0", 0, 0, { { 0, 0 } }, "0 0 1" },
  { "no ranges, largest id", MAX_ID, 0, { { 0, 0 } }, "0 4294967295 1" },
  { "one range", 1000, 1, { { 100000, 65536 } }, "0 1000 1 1 100000 65536" },
  { "rootlesskit example", 1000, 2, { { 100000, 65536 }, { 200000, 65536 } },
    "0 1000 1 1 100000 65536 65537 200000 65536" },
  { "three ranges of different sizes", 1000, 3, { { 100000, 10 }, { 5, 1 }, { 300000, 65536 } },
    "0 1000 1 1 100000 10 11 5 1 12 300000 65536" },
  { "range count 1", 1001, 1, { { 7, 1 } }, "0 1001 1 1 7 1" },
  { "range at the top of the id space", 1000, 1, { { 4294901759u, 65536 } },
    "0 1000 1 1 4294901759 65536" },
  /* The namespace's ids run from 0 to 2^32 - 2: 1 + count must stay <= 2^32 - 1. */
  { "one range filling the namespace", 1000, 1, { { 0, 4294967294u } },
    "0 1000 1 1 0 4294967294" },
  { "one range one too big", 1000, 1, { { 0, 4294967295u } }, "0 1000 1" },
  { "second range fills exactly", 1000, 2, { { 0, 4294967290u }, { 100000, 4 } },
    "0 1000 1 1 0 4294967290 4294967291 100000 4" },
  { "second range one too big", 1000, 2, { { 0, 4294967290u }, { 100000, 5 } },
    "0 1000 1 1 0 4294967290" },
  /* Cut off at the first range that does not fit: later ones are dropped even if smaller. */
  { "cut off at the first overflow", 1000, 3,
    { { 0, 4294967290u }, { 100000, 10 }, { 200000, 4 } }, "0 1000 1 1 0 4294967290" },
  { "first range too big drops all", 1000, 2, { { 0, 4294967295u }, { 100000, 10 } },
    "0 1000 1" },
  { "two halves", 1000, 2, { { 0, 2147483647u }, { 2147483647u, 2147483647u } },
    "0 1000 1 1 0 2147483647 2147483648 2147483647 2147483647" },
  { "two halves, one too many", 1000, 2, { { 0, 2147483647u }, { 2147483647u, 2147483648u } },
    "0 1000 1 1 0 2147483647" },
};

/**
 * check_args() - assert that @args is exactly the space-separated @want
 * @desc: row description, printed on failure
 * @args: idmap_helper_args() result
 * @want: expected numbers separated by single spaces
 *
 * Each element must be one number: the helpers take one argument per number.
 */
static void
check_args (const char *desc, char **args, const char *want)
{
  g_auto (GStrv) want_v = g_strsplit (want, " ", -1);
  g_autofree char *joined = NULL;

  assert_non_null (args);
  joined = g_strjoinv (" ", args);
  if (strcmp (joined, want) != 0)
    print_error ("%s: \"%s\", want \"%s\"\n", desc, joined, want);
  assert_string_equal (joined, want);
  assert_int_equal (g_strv_length (args), g_strv_length (want_v));
  assert_int_equal (g_strv_length (args) % 3, 0);
  for (guint i = 0; want_v[i] != NULL; i++)
    assert_string_equal (args[i], want_v[i]);
}

static void
test_args_table (void **state)
{
  for (gsize i = 0; i < G_N_ELEMENTS (args_cases); i++)
    {
      const ArgsCase *c = &args_cases[i];
      g_autoptr (GArray) ranges = g_array_new (FALSE, TRUE, sizeof (IdRange));
      g_auto (GStrv) args = NULL;

      g_array_append_vals (ranges, c->ranges, c->n);
      args = idmap_helper_args (c->id, ranges);
      check_args (c->desc, args, c->want);
      /* The ranges are not modified. */
      assert_int_equal (ranges->len, c->n);
      for (guint j = 0; j < c->n; j++)
        {
          assert_int_equal (g_array_index (ranges, IdRange, j).start, c->ranges[j].start);
          assert_int_equal (g_array_index (ranges, IdRange, j).count, c->ranges[j].count);
        }
    }
}

/* The whole path setup_one() takes: /etc/subuid text -> parser -> helper arguments. */
static void
test_parse_then_args (void **state)
{
  static const struct {
    const char *content;
    const char *name;
    guint32 id;
    const char *want;
  } cases[] = {
    { "alice:100000:65536\n1000:200000:65536\n", "alice", 1000,
      "0 1000 1 1 100000 65536 65537 200000 65536" },
    { "# nothing for us\nbob:100000:65536\n", "alice", 1000, "0 1000 1" },
    { "", NULL, 1000, "0 1000 1" },
    { "alice:0:4294967295\nalice:100000:65536\n", "alice", 1000, "0 1000 1" },
    { "alice:0:4294967294\nalice:100000:65536\n", "alice", 1000, "0 1000 1 1 0 4294967294" },
    { "alice:100000:0\nalice:bad:1\r\nalice:165536:65536\r\n", "alice", 1000,
      "0 1000 1 1 165536 65536" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GArray) ranges = idmap_parse_subid (cases[i].content, cases[i].name, cases[i].id);
      g_auto (GStrv) args = idmap_helper_args (cases[i].id, ranges);

      check_args (cases[i].content, args, cases[i].want);
    }
}

/* 1000 small ranges: all stacked, each starting where the previous ended. */
static void
test_args_many (void **state)
{
  g_autoptr (GArray) ranges = g_array_new (FALSE, TRUE, sizeof (IdRange));
  g_auto (GStrv) args = NULL;
  guint64 next = 1;

  for (guint i = 0; i < 1000; i++)
    {
      IdRange r = { 100000 + i * 1000, i + 1 };
      g_array_append_val (ranges, r);
    }
  args = idmap_helper_args (1000, ranges);
  assert_int_equal (g_strv_length (args), 3 * 1001);
  assert_string_equal (args[0], "0");
  assert_string_equal (args[1], "1000");
  assert_string_equal (args[2], "1");
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *inside = g_strdup_printf ("%" G_GUINT64_FORMAT, next);
      g_autofree char *start = g_strdup_printf ("%u", 100000 + i * 1000);
      g_autofree char *count = g_strdup_printf ("%u", i + 1);

      assert_string_equal (args[3 + 3 * i], inside);
      assert_string_equal (args[4 + 3 * i], start);
      assert_string_equal (args[5 + 3 * i], count);
      next += i + 1;
    }
  assert_null (args[3 * 1001]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_table),
    cmocka_unit_test (test_parse_keeps_input),
    cmocka_unit_test (test_parse_many),
    cmocka_unit_test (test_args_table),
    cmocka_unit_test (test_parse_then_args),
    cmocka_unit_test (test_args_many),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
