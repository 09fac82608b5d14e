/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NPTE_NETNS_SHOW_H
#define NPTE_NETNS_SHOW_H

#include <glib.h>

#include "netlink.h"

/*
 * "npte netns show": a netcfg_dump() as text or JSON. Pure; unit-tested.
 *
 * JSON: {"links":[{"index","name","kind","mtu","up","operstate","mac","master"}],
 *        "addresses":[{"dev","family","address","prefix","scope"}],
 *        "routes":[{"family","dst","gateway","dev","protocol","scope","type"}],
 *        "neighbours":[{"dev","family","address","lladdr","state"}]}
 * "kind", "mac", "master", "gateway", "dev" and "lladdr" are null when absent;
 * "dst" is "default" or "ADDR/PREFIX"; families are "inet" and "inet6".
 */

/**
 * netns_show_render() - render @dump
 * @dump: the dump
 * @json: JSON (one line) instead of text
 *
 * Return: (transfer full) the text, ending in a newline.
 */
char *netns_show_render (const NetcfgDump *dump, gboolean json);

/**
 * netns_json_string() - append @s as a JSON string literal (escaped, valid UTF-8)
 * @out: output
 * @s: text, or NULL for null
 */
void netns_json_string (GString *out, const char *s);

#endif /* NPTE_NETNS_SHOW_H */
