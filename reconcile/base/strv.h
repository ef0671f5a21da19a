/*
 * strv.h: NULL-terminated vectors of strings, the shape every list of app
 * ids, keys and paths takes between the layers.
 */
#ifndef PACER_STRV_H
#define PACER_STRV_H

/* Free v, every string in it and then the array; v may be NULL. */
void pacer_strv_free(char **v);

#endif
