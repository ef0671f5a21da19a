#include "reconcile/backup.h"

#include <stdlib.h>

void pacer_backup_entries_free(struct pacer_backup_entry *v, size_t count)
{
	for (size_t i = 0; v && i < count; i++) {
		free(v[i].app_id);
		free(v[i].path);
		free(v[i].time);
	}
	free(v);
}
