/*
 * console_assets.h: the web console's files (cmd/pacer/console/: HTML
 * templates, the style sheet, the script), embedded in the program at
 * build time by cmd/pacer/console/embed.cmake: nothing is read from disk
 * or fetched at run time.
 */
#ifndef PACER_CMD_CONSOLE_ASSETS_H
#define PACER_CMD_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *name;          /* the file's name: "console.css" */
	const unsigned char *data; /* its bytes, followed by a NUL */
	size_t len;                /* without that NUL */
};

/* Every asset, then a row of NULLs. */
extern const struct console_asset console_assets[];

/* The asset called name, or NULL. */
const struct console_asset *console_asset_find(const char *name);

#endif
