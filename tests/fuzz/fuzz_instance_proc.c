/*
 * fuzz_instance_proc - what postern status/stop read from /proc about a
 * process of the instance: its cmdline (written by the process itself,
 * so untrusted) and its fdinfo text
 *
 * The name must be NUL-terminated within its buffer, printable ASCII only
 * and never empty; the fdinfo check must not read past the text. Any
 * violation abort()s.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/instance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[48], small[4], *text;

	instance_cmdline_name((const char *)data, size, name, sizeof(name));
	if (memchr(name, '\0', sizeof(name)) == NULL || name[0] == '\0')
		abort();
	for (const char *p = name; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			abort();
	instance_cmdline_name((const char *)data, size, small, sizeof(small));
	if (memchr(small, '\0', sizeof(small)) == NULL)
		abort();
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)instance_fdinfo_locked(text);
	free(text);
	return 0;
}
