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
#include "util/str.h"

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
/* The length of the message's header, its empty line included (the whole
 * file if it has none), without parsing its MIME structure. */
size_t imap_message_header_len(const struct imap_message *m);

/* HEADER CACHE  SEARCH, SORT and THREAD look at a few header fields of
 * every message; reading each file for them costs what Dovecot's cache
 * saves. So the fields below are kept in the index's cache
 * (IMAP_CACHE_HEADER) as a header block of their own: "Name: value" lines
 * (values unfolded, as the message has them: RFC 2047 words are decoded
 * by the reader), in the message's order, ended by an empty line. Filled
 * the first time a command needs it (FETCH ENVELOPE fills it too, since
 * it reads the header anyway). */
/* 1 if field name (any case) is among the cached ones. */
int imap_header_cached(const char *name);
/* The cached header block of message i into out (read from the file and
 * put in the cache on a miss; msg may be an already mapped message or
 * NULL). 0, or -1 with errno (ENOENT: expunged). */
int imap_header_get(struct imap_folder *f, uint32_t i,
		    const struct imap_message *msg, struct str *out);
/* The block of the header hdr[0..len) into out (what imap_header_get
 * caches). */
void imap_header_extract(const char *hdr, size_t len, struct str *out);

#endif
