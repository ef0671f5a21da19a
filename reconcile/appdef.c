/*
 * Placeholder: copies the body and resolves the id. The full Marathon
 * pipeline (shape checks, legacy migration, defaults, validation) replaces it.
 */
#include "reconcile/appdef.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

unsigned appdef_parse_features(const char *list)
{
	unsigned f = 0;

	if (!list)
		return 0;
	if (strstr(list, "secrets"))
		f |= APPDEF_FEATURE_SECRETS;
	if (strstr(list, "external_volumes"))
		f |= APPDEF_FEATURE_EXTERNAL_VOLUMES;
	if (strstr(list, "gpu_resources"))
		f |= APPDEF_FEATURE_GPU_RESOURCES;
	return f;
}

int appdef_submit(struct json_object *raw, const char *url_id, const struct appdef_flags *flags,
		  struct json_object **out, struct json_object **out_error)
{
	struct json_object *copy = NULL;

	if (out_error)
		*out_error = NULL;
	if (json_object_deep_copy(raw, &copy, NULL))
		return -1;
	if (url_id)
		json_object_object_add(copy, "id", json_object_new_string(url_id));
	*out = copy;
	return 0;
}

char *appdef_format_error(struct json_object *error_body)
{
	return strdup(json_object_to_json_string(error_body));
}
