/*
 * imap_message - one message of the selected folder, read for FETCH,
 *                SEARCH, SORT and THREAD
 *
 * The file is mapped read-only (a message is at most message_size_limit;
 * the mapping costs address space, not memory) and its MIME tree parsed
 * only when a command needs it. A file another reader renamed is found
 * again by its base name (imap_folder_open_msg); one that is gone gives
 * ENOENT: the message was expunged meanwhile (NO [EXPUNGEISSUED]).
 */
#ifndef POSTERN_IMAP_MESSAGE_H
#define POSTERN_IMAP_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mail/imap_index.h"
#include "mail/mime.h"

struct imap_message {
	struct imap_folder *f;
	uint32_t i;
	const char *data;		/* the file's bytes (NULL if empty) */
	size_t len;
	struct mime_msg mime;
	int parsed;
};

/* Map message i of f. 0, or -1 with errno (ENOENT: expunged). */
int imap_message_open(struct imap_message *m, struct imap_folder *f,
		      uint32_t i);
/* The MIME tree (parsed at the first call). NULL with *error_r if the
 * parser gave up (a message over its limits: callers fall back to a
 * single text part). */
const struct mime_msg *imap_message_mime(struct imap_message *m,
					 const char **error_r);
void imap_message_close(struct imap_message *m);

#endif
