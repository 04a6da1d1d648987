/*
 * fuzz_imap_folders - folder names <-> Maildir++ directory names and LIST
 * patterns (imapd/imap_folders.h)
 *
 * The input is split at the first NUL: a folder name (UTF-8, as a client
 * would give it after mUTF-7 decoding) and a LIST pattern. Invariants: a
 * name that is accepted gives one path component that begins with '.',
 * is not "." or "..", holds no '/', and maps back to the same name (or
 * INBOX to ""); any directory name that maps to a folder maps back to
 * itself; a name matches the pattern "*"; the matcher returns (bounded
 * work) for any pattern; abort() otherwise.
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_imap_folders -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_imap_folders
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/imap_folders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *name)
{
	struct str dir = STR_INIT(0), back = STR_INIT(0);
	const char *error;

	if (imap_folder_dirname(name, &dir, &error) == 0) {
		if (imap_folder_is_inbox(name)) {
			if (dir.len != 0)
				abort();
		} else if (dir.len < 2 || dir.s[0] != '.' ||
			   strchr(dir.s, '/') != NULL ||
			   strcmp(dir.s, "..") == 0 ||
			   imap_folder_from_dirname(dir.s, &back) < 0 ||
			   strcmp(str_c(&back), name) != 0) {
			abort();
		}
		if (!imap_folder_match("*", name))
			abort();
	}
	/* the same bytes as a directory's name */
	str_clear(&back);
	if (imap_folder_from_dirname(name, &back) == 0) {
		str_clear(&dir);
		if (imap_folder_dirname(str_c(&back), &dir, &error) < 0 ||
		    strcmp(str_c(&dir), name) != 0)
			abort();
	}
	str_free(&dir);
	str_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *pattern;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	pattern = buf + strlen(buf) + 1;
	if (pattern > buf + size)
		pattern = "";
	check_name(buf);
	(void)imap_folder_match(pattern, buf);
	free(buf);
	return 0;
}
