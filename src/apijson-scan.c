/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Strict JSON syntax check
 *
 * json-glib 1.6 accepts far more than JSON and gets some of it wrong:
 * comments, single quotes, hex and octal numbers, trailing data, raw control
 * characters in strings; it cuts strings at "\u0000", wraps integers that do
 * not fit in 64 bits, and recurses once per nesting level. So every input is
 * first checked here against RFC 8259, with these extra limits: no NUL
 * character (raw or escaped), no lone surrogate, integers within 64 bits,
 * nesting at most JSON_MAX_DEPTH. What passes is parsed faithfully by
 * json-glib. apijson_pretty() re-indents text that passed.
 */
#include "apijson.h"

#include <errno.h>
#include <string.h>

#include "npte-error.h"

/* Deepest nesting accepted; API documents are at most 3 deep. */
#define JSON_MAX_DEPTH 64
/* Bytes of a key kept for error messages. */
#define KEY_MAX 64
typedef struct {
  const char *p;
  gsize len;
  gsize pos;
  int depth;
  char key[KEY_MAX]; /* last object key seen, for messages */
  GError **error;
} Scan;

static gboolean scan_value (Scan *s);

/**
 * scan_fail() - set an "invalid JSON" error at the current offset
 * @s: scanner
 * @what: what is wrong ("invalid character", ...)
 *
 * Return: FALSE.
 */
static gboolean
scan_fail (Scan *s, const char *what)
{
  if (s->pos >= s->len)
    return npte_set_error (s->error, EINVAL, "invalid JSON: unexpected end of input");
  guchar c = (guchar) s->p[s->pos];
  if (c >= 0x20 && c < 0x7f)
    return npte_set_error (s->error, EINVAL, "invalid JSON: %s '%c' at offset %" G_GSIZE_FORMAT,
                           what, c, s->pos);
  return npte_set_error (s->error, EINVAL, "invalid JSON: %s (byte 0x%02x) at offset %" G_GSIZE_FORMAT,
                         what, c, s->pos);
}

static int
scan_peek (const Scan *s)
{
  return s->pos < s->len ? (guchar) s->p[s->pos] : -1;
}

static void
scan_ws (Scan *s)
{
  while (s->pos < s->len)
    {
      char c = s->p[s->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      s->pos++;
    }
}

/**
 * scan_hex4() - read the 4 hex digits of a \u escape
 * @s: scanner, at the first digit
 * @out: (out) the code unit
 *
 * Return: TRUE if there were 4 hex digits.
 */
static gboolean
scan_hex4 (Scan *s, guint *out)
{
  guint v = 0;

  for (int i = 0; i < 4; i++)
    {
      int c = scan_peek (s);
      if (c < 0 || !g_ascii_isxdigit (c))
        return scan_fail (s, "invalid \\u escape, character");
      v = v * 16 + (guint) g_ascii_xdigit_value ((char) c);
      s->pos++;
    }
  *out = v;
  return TRUE;
}

/**
 * scan_escape() - check one escape sequence after its backslash
 * @s: scanner, at the character after '\'
 *
 * "\u0000" is refused (json-glib would truncate the string there), and a
 * surrogate must come as a high/low pair.
 *
 * Return: TRUE if the escape is valid.
 */
static gboolean
scan_escape (Scan *s)
{
  guint u = 0, lo = 0; /* set by scan_hex4(); -O3 cannot see it */
  int c = scan_peek (s);

  if (c < 0 || strchr ("\"\\/bfnrtu", c) == NULL || c == '\0')
    return scan_fail (s, "invalid escape character");
  s->pos++;
  if (c != 'u')
    return TRUE;
  gsize at = s->pos - 2;
  if (!scan_hex4 (s, &u))
    return FALSE;
  if (u == 0)
    return npte_set_error (s->error, EINVAL,
                           "invalid JSON: NUL character (\\u0000) in string at offset %" G_GSIZE_FORMAT,
                           at);
  if (u >= 0xDC00 && u <= 0xDFFF)
    return npte_set_error (s->error, EINVAL,
                           "invalid JSON: unpaired surrogate in string at offset %" G_GSIZE_FORMAT, at);
  if (u < 0xD800 || u > 0xDBFF)
    return TRUE;
  if (s->pos + 2 > s->len || s->p[s->pos] != '\\' || s->p[s->pos + 1] != 'u')
    return npte_set_error (s->error, EINVAL,
                           "invalid JSON: unpaired surrogate in string at offset %" G_GSIZE_FORMAT, at);
  s->pos += 2;
  if (!scan_hex4 (s, &lo))
    return FALSE;
  if (lo < 0xDC00 || lo > 0xDFFF)
    return npte_set_error (s->error, EINVAL,
                           "invalid JSON: unpaired surrogate in string at offset %" G_GSIZE_FORMAT, at);
  return TRUE;
}

/**
 * scan_string() - check a string literal
 * @s: scanner, at the opening quote
 * @is_key: remember the raw text in s->key for messages
 *
 * Return: TRUE if valid.
 */
static gboolean
scan_string (Scan *s, gboolean is_key)
{
  gsize start = ++s->pos;

  for (;;)
    {
      int c = scan_peek (s);
      if (c < 0)
        return scan_fail (s, "unterminated string");
      if (c == '"')
        break;
      if (c < 0x20)
        return scan_fail (s, "invalid character in string");
      s->pos++;
      if (c == '\\' && !scan_escape (s))
        return FALSE;
    }
  if (is_key)
    {
      gsize n = MIN (s->pos - start, sizeof s->key - 1);
      while (n > 0 && (s->p[start + n] & 0xC0) == 0x80)
        n--; /* don't cut a UTF-8 sequence */
      memcpy (s->key, s->p + start, n);
      s->key[n] = '\0';
    }
  s->pos++;
  return TRUE;
}

static gsize
scan_digits (Scan *s)
{
  gsize n = 0;

  while (s->pos < s->len && g_ascii_isdigit (s->p[s->pos]))
    {
      s->pos++;
      n++;
    }
  return n;
}

/**
 * scan_number() - check a number literal; integers must fit in 64 bits
 * @s: scanner, at '-' or a digit
 *
 * Return: TRUE if valid.
 */
static gboolean
scan_number (Scan *s)
{
  gsize start = s->pos;
  gboolean integer = TRUE;

  if (scan_peek (s) == '-')
    s->pos++;
  if (scan_peek (s) == '0')
    s->pos++;
  else if (scan_digits (s) == 0)
    return scan_fail (s, "invalid character in number");
  if (scan_peek (s) == '.')
    {
      s->pos++;
      integer = FALSE;
      if (scan_digits (s) == 0)
        return scan_fail (s, "invalid character after decimal point");
    }
  if (scan_peek (s) == 'e' || scan_peek (s) == 'E')
    {
      s->pos++;
      integer = FALSE;
      if (scan_peek (s) == '+' || scan_peek (s) == '-')
        s->pos++;
      if (scan_digits (s) == 0)
        return scan_fail (s, "invalid character in exponent");
    }
  if (integer)
    {
      g_autofree char *text = g_strndup (s->p + start, s->pos - start);
      if (!g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, NULL, NULL))
        {
          if (s->key[0] != '\0')
            return npte_set_error (s->error, EINVAL,
                                   "json: number %s of field \"%s\" is out of range", text, s->key);
          return npte_set_error (s->error, EINVAL, "json: number %s is out of range", text);
        }
    }
  return TRUE;
}

/**
 * scan_literal() - check "true", "false" or "null"
 * @s: scanner
 * @word: the expected literal
 *
 * Return: TRUE if @word is at the current offset.
 */
static gboolean
scan_literal (Scan *s, const char *word)
{
  gsize n = strlen (word);

  for (gsize i = 0; i < n; i++)
    {
      if (s->pos >= s->len || s->p[s->pos] != word[i])
        return scan_fail (s, "invalid character in literal");
      s->pos++;
    }
  return TRUE;
}

/**
 * scan_members() - check the members of an object or the elements of an array
 * @s: scanner, at '{' or '['
 * @object: TRUE for an object
 *
 * Return: TRUE if valid.
 */
static gboolean
scan_members (Scan *s, gboolean object)
{
  char close = object ? '}' : ']';

  if (++s->depth > JSON_MAX_DEPTH)
    return npte_set_error (s->error, EINVAL, "invalid JSON: nested deeper than %d levels",
                           JSON_MAX_DEPTH);
  s->pos++;
  scan_ws (s);
  if (scan_peek (s) == close)
    {
      s->pos++;
      s->depth--;
      return TRUE;
    }
  for (;;)
    {
      if (object)
        {
          if (scan_peek (s) != '"')
            return scan_fail (s, "expected a string key, got");
          if (!scan_string (s, TRUE))
            return FALSE;
          scan_ws (s);
          if (scan_peek (s) != ':')
            return scan_fail (s, "expected ':', got");
          s->pos++;
        }
      if (!scan_value (s))
        return FALSE;
      scan_ws (s);
      if (scan_peek (s) == close)
        break;
      if (scan_peek (s) != ',')
        return scan_fail (s, object ? "expected ',' or '}', got" : "expected ',' or ']', got");
      s->pos++;
      scan_ws (s);
    }
  s->pos++;
  s->depth--;
  return TRUE;
}

/**
 * scan_value() - check one value and the whitespace before it
 * @s: scanner
 *
 * Return: TRUE if valid.
 */
static gboolean
scan_value (Scan *s)
{
  scan_ws (s);
  switch (scan_peek (s))
    {
    case '{':
      return scan_members (s, TRUE);
    case '[':
      return scan_members (s, FALSE);
    case '"':
      return scan_string (s, FALSE);
    case 't':
      return scan_literal (s, "true");
    case 'f':
      return scan_literal (s, "false");
    case 'n':
      return scan_literal (s, "null");
    default:
      if (scan_peek (s) == '-' || g_ascii_isdigit (scan_peek (s)))
        return scan_number (s);
      return scan_fail (s, "invalid character");
    }
}

gboolean
apijson_validate (const char *json, gsize len, GError **error)
{
  const char *end = NULL;
  Scan s = { .p = json, .len = len, .error = error };

  if (json == NULL || len == 0)
    return npte_set_error (error, EINVAL, "invalid JSON: empty input");
  if (len > G_MAXSSIZE || !g_utf8_validate_len (json, len, &end))
    return npte_set_error (error, EINVAL, "invalid JSON: invalid UTF-8 at offset %td",
                           end != NULL ? end - json : 0);
  if (!scan_value (&s))
    return FALSE;
  scan_ws (&s);
  if (s.pos != s.len)
    return scan_fail (&s, "unexpected data after the value:");
  return TRUE;
}

/**
 * pretty_indent() - start a new line indented @depth levels of 4 spaces
 * @out: output
 * @depth: nesting level
 */
static void
pretty_indent (GString *out, int depth)
{
  g_string_append_c (out, '\n');
  for (int i = 0; i < depth; i++)
    g_string_append (out, "    ");
}

/**
 * pretty_string() - copy a string literal verbatim
 * @out: output
 * @json: text
 * @len: its length
 * @i: index of the opening quote
 *
 * Return: the index just after the closing quote.
 */
static gsize
pretty_string (GString *out, const char *json, gsize len, gsize i)
{
  gsize start = i++;

  while (i < len && json[i] != '"')
    i += json[i] == '\\' ? 2 : 1;
  i = MIN (i + 1, len);
  g_string_append_len (out, json + start, (gssize) (i - start));
  return i;
}

char *
apijson_pretty (const char *json, gsize len)
{
  g_autoptr (GString) out = NULL;
  int depth = 0;

  if (!apijson_validate (json, len, NULL))
    return NULL;
  out = g_string_sized_new (len * 2);
  for (gsize i = 0; i < len;)
    {
      char c = json[i];
      gsize j;

      switch (c)
        {
        case '"':
          i = pretty_string (out, json, len, i);
          continue;
        case '{':
        case '[':
          g_string_append_c (out, c);
          for (j = i + 1; j < len && g_ascii_isspace (json[j]); j++)
            ;
          if (j < len && (json[j] == '}' || json[j] == ']'))
            {
              g_string_append_c (out, json[j]);
              i = j + 1;
              continue;
            }
          pretty_indent (out, ++depth);
          break;
        case '}':
        case ']':
          pretty_indent (out, --depth);
          g_string_append_c (out, c);
          break;
        case ',':
          g_string_append_c (out, ',');
          pretty_indent (out, depth);
          break;
        case ':':
          g_string_append (out, ": ");
          break;
        case ' ':
        case '\t':
        case '\n':
        case '\r':
          break;
        default:
          g_string_append_c (out, c);
          break;
        }
      i++;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
