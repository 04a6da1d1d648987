/*
 * imap_search - the SEARCH engine shared by SEARCH, SORT and THREAD
 *               (imap_search.c; the commands SORT and THREAD are in
 *               imap_cmd_sort.c)
 */
#ifndef POSTERN_IMAP_SEARCH_H
#define POSTERN_IMAP_SEARCH_H

#include <stdint.h>

#include "imap_search_parse.h"
#include "imap_session.h"

/* Parse c's arguments with parse (imap_search_parse, imap_sort_parse or
 * imap_thread_parse) into q (imap_search_init'ed here; the caller frees
 * it either way). 0, or -1 after answering BAD or NO [BADCHARSET]. */
int imap_search_command(struct imap_session *s, struct imap_command *c,
			struct imap_search *q,
			int (*parse)(struct imap_search *,
				     const struct imap_arg *, unsigned,
				     const char **));
/* The indexes (0-based, ascending) of the selected folder's messages
 * that q matches, in *hits_r (allocated; the caller frees); their
 * count. */
uint32_t imap_search_run(struct imap_session *s, struct imap_search *q,
			 uint32_t **hits_r);

#endif
