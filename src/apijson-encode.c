/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DOC: Encoding the control API's JSON
 *
 * Written by hand into a GString: json-glib 1.6's generator writes some
 * control characters unescaped, which is not JSON. Strings that are not
 * valid UTF-8 (a state dir path, say) are repaired with U+FFFD, as Go does.
 * Members are written in rootlesskit's order; PortSpec members are omitted
 * when empty or zero, like Go's "omitempty" tags. npte's PortSpec extras
 * follow: "portCount" (omitted for one port) and "direction" (omitted for
 * forward), so what rootlesskit can express is written as rootlesskit
 * writes it.
 */
#include "apijson.h"

#include <string.h>

/* A JSON object being written: the output and whether a member was written. */
typedef struct {
  GString *out;
  gboolean first;
} JObj;

/**
 * put_string() - append @str as a JSON string literal
 * @out: output
 * @str: text (NULL is written as ""); invalid UTF-8 becomes U+FFFD
 * @len: bytes of @str, or -1 for NUL-terminated
 */
static void
put_string (GString *out, const char *str, gssize len)
{
  g_autofree char *fixed = NULL;
  const char *end;

  if (str == NULL)
    str = "";
  if (len < 0)
    len = (gssize) strlen (str);
  if (!g_utf8_validate (str, len, NULL))
    {
      fixed = g_utf8_make_valid (str, len);
      str = fixed;
      len = (gssize) strlen (fixed);
    }
  end = str + len;
  g_string_append_c (out, '"');
  for (const char *p = str; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20 || c == 0x2028 || c == 0x2029)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_len (out, p, g_utf8_next_char (p) - p);
        }
    }
  g_string_append_c (out, '"');
}

static void
jobj_begin (JObj *o, GString *out)
{
  o->out = out;
  o->first = TRUE;
  g_string_append_c (out, '{');
}

/* jobj_key() - write the separator and "@key": */
static void
jobj_key (JObj *o, const char *key)
{
  if (!o->first)
    g_string_append_c (o->out, ',');
  o->first = FALSE;
  put_string (o->out, key, -1);
  g_string_append_c (o->out, ':');
}

static void
jobj_str (JObj *o, const char *key, const char *value)
{
  jobj_key (o, key);
  put_string (o->out, value, -1);
}

static void
jobj_int (JObj *o, const char *key, gint64 value)
{
  jobj_key (o, key);
  g_string_append_printf (o->out, "%" G_GINT64_FORMAT, value);
}

static void
jobj_bool (JObj *o, const char *key, gboolean value)
{
  jobj_key (o, key);
  g_string_append (o->out, value ? "true" : "false");
}

/* jobj_strv() - "@key":[...] from a NULL-terminated vector (NULL = []). */
static void
jobj_strv (JObj *o, const char *key, const char *const *values)
{
  jobj_key (o, key);
  g_string_append_c (o->out, '[');
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (o->out, ',');
      put_string (o->out, values[i], -1);
    }
  g_string_append_c (o->out, ']');
}

static void
jobj_end (JObj *o)
{
  g_string_append_c (o->out, '}');
}

/* jobj_ip() - an IP member of a PortSpec: omitted when empty. */
static void
jobj_ip (JObj *o, const char *key, const char *buf)
{
  gsize n = strnlen (buf, PORTSPEC_IP_MAX);

  if (n == 0)
    return;
  jobj_key (o, key);
  put_string (o->out, buf, (gssize) n);
}

/**
 * put_spec() - append a PortSpec object, omitting empty members
 * @out: output
 * @spec: the spec
 */
static void
put_spec (GString *out, const PortSpec *spec)
{
  const char *proto = portproto_to_string (spec->proto);
  JObj o;

  jobj_begin (&o, out);
  if (proto != NULL && proto[0] != '\0')
    jobj_str (&o, "proto", proto);
  jobj_ip (&o, "parentIP", spec->parent_ip);
  if (spec->parent_port != 0)
    jobj_int (&o, "parentPort", spec->parent_port);
  jobj_ip (&o, "childIP", spec->child_ip);
  if (spec->child_port != 0)
    jobj_int (&o, "childPort", spec->child_port);
  /* npte extras, omitted for what rootlesskit means: one port, forward. */
  if (spec->count != 0 && spec->count != 1)
    jobj_int (&o, "portCount", spec->count);
  if (spec->reverse)
    jobj_str (&o, "direction", "reverse");
  jobj_end (&o);
}

static gint64
clamp_u64 (guint64 v)
{
  return v > (guint64) G_MAXINT64 ? G_MAXINT64 : (gint64) v;
}

/**
 * put_status() - append a PortStatus object with the npte "stats" extra
 * @out: output
 * @entry: the entry
 */
static void
put_status (GString *out, const PortEntry *entry)
{
  const PortCounters *c = &entry->counters;
  JObj o, stats;

  jobj_begin (&o, out);
  jobj_int (&o, "id", entry->id);
  jobj_key (&o, "spec");
  put_spec (out, &entry->spec);
  jobj_key (&o, "stats");
  jobj_begin (&stats, out);
  jobj_int (&stats, "connsAccepted", clamp_u64 (c->conns_accepted));
  jobj_int (&stats, "connsActive", clamp_u64 (c->conns_active));
  jobj_int (&stats, "bytesIn", clamp_u64 (c->bytes_in));
  jobj_int (&stats, "bytesOut", clamp_u64 (c->bytes_out));
  jobj_int (&stats, "errors", clamp_u64 (c->errors));
  jobj_end (&stats);
  jobj_end (&o);
}

char *
apijson_spec_encode (const PortSpec *spec)
{
  GString *out = g_string_new (NULL);

  put_spec (out, spec);
  return g_string_free (out, FALSE);
}

char *
apijson_status_encode (const PortEntry *entry)
{
  GString *out = g_string_new (NULL);

  put_status (out, entry);
  return g_string_free (out, FALSE);
}

char *
apijson_status_list_encode (const GPtrArray *entries)
{
  GString *out = g_string_new ("[");

  for (guint i = 0; entries != NULL && i < entries->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      put_status (out, g_ptr_array_index (entries, i));
    }
  g_string_append_c (out, ']');
  return g_string_free (out, FALSE);
}

char *
apijson_error_encode (const char *message)
{
  GString *out = g_string_new (NULL);
  JObj o;

  jobj_begin (&o, out);
  jobj_str (&o, "message", message);
  jobj_end (&o);
  return g_string_free (out, FALSE);
}

/**
 * put_net_driver() - append the "networkDriver" object of @info
 * @o: the Info object being written
 * @info: the info (net_driver is not NULL)
 */
static void
put_net_driver (JObj *o, const NpteInfo *info)
{
  JObj n;

  jobj_key (o, "networkDriver");
  jobj_begin (&n, o->out);
  jobj_str (&n, "driver", info->net_driver);
  if (info->net_dns != NULL && info->net_dns[0] != NULL)
    jobj_strv (&n, "dns", info->net_dns);
  if (info->net_child_ip != NULL && info->net_child_ip[0] != '\0')
    jobj_str (&n, "childIP", info->net_child_ip);
  if (info->net_gateway != NULL && info->net_gateway[0] != '\0')
    jobj_str (&n, "gateway", info->net_gateway);
  if (info->net_mtu != 0)
    jobj_int (&n, "mtu", info->net_mtu);
  jobj_end (&n);
}

char *
apijson_info_encode (const NpteInfo *info)
{
  GString *out = g_string_new (NULL);
  JObj o, p;

  jobj_begin (&o, out);
  if (info->api_version != NULL)
    jobj_str (&o, "apiVersion", info->api_version);
  if (info->version != NULL)
    jobj_str (&o, "version", info->version);
  if (info->state_dir != NULL)
    jobj_str (&o, "stateDir", info->state_dir);
  jobj_int (&o, "childPID", info->child_pid);
  if (info->net_driver != NULL)
    put_net_driver (&o, info);
  if (info->port_driver != NULL)
    {
      jobj_key (&o, "portDriver");
      jobj_begin (&p, out);
      jobj_str (&p, "driver", info->port_driver);
      jobj_strv (&p, "protos", info->port_protos);
      if (info->disallow_loopback_child_ip) /* omitempty, as rootlesskit */
        jobj_bool (&p, "disallowLoopbackChildIP", TRUE);
      jobj_end (&p);
    }
  jobj_end (&o);
  return g_string_free (out, FALSE);
}
