/*
 * files.h: small file-system helpers every layer shares. Durable writes
 * (fsync, rename, the parent directory) are backends/fs/durable.h's.
 */
#ifndef PACER_FILES_H
#define PACER_FILES_H

#include <sys/types.h>

#include "reconcile/base/error.h"

/*
 * mkdir -p: create dir and every missing parent with mode (existing ones
 * are left as they are). Fails with PACER_EIO naming the directory that
 * could not be made, or when dir exists but is not a directory.
 */
int pacer_mkdir_p(const char *dir, mode_t mode, struct pacer_error **err);

#endif
