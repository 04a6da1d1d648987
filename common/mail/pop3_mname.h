/*
 * pop3_mname - reading Maildir file names the way Dovecot writes them
 *
 *   <secs>.<unique>.<host>[,S=<size>][,W=<vsize>][,...][:2,<flags>]
 *
 * BASE    everything before ":2," (or before ':' for another info
 *         version); it never changes while flags do, so it is the message's
 *         UIDL, as Dovecot's pop3_uidl_format = %f shows it.
 * SIZES   ",S=" is the file's size in bytes; ",W=" its size with every
 *         line ending counted as CRLF (what RFC 1939 calls the message
 *         size). Either may be absent (Courier writes neither, Dovecot
 *         writes W only in some setups); the caller then counts.
 * FLAGS   the ASCII letters after ":2,", kept sorted by the writer
 *         (Dovecot and Courier sort them); pop3_mname_add_flag() keeps
 *         them so.
 * ORDER   by the leading decimal seconds and, in names of the form
 *         "<secs>.M<usecs>P...", the microseconds (compared as numbers:
 *         they are not zero-padded), then by the whole name, so that
 *         message numbers follow delivery order.
 * Names beginning with '.' are not messages (".", "..", dot files).
 */
#ifndef POSTERN_POP3_MNAME_H
#define POSTERN_POP3_MNAME_H

#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

/* Longest name considered (NAME_MAX). */
#define POP3_MNAME_MAX 255

struct pop3_mname {
	size_t base_len;	/* bytes of the base name */
	const char *flags;	/* after ":2,", or NULL without ":2," */
	int has_size, has_vsize;
	uint64_t size, vsize;
	uint64_t stamp;		/* pop3_mname_stamp() of the name */
};

/* 0, or -1 if name is not a message (empty, dot file, too long, holding
 * '/' or control bytes). */
int pop3_mname_parse(const char *name, struct pop3_mname *m);
/* Set out to name with flag among its flags (":2," appended if there was
 * no info part); 1 if the name changes, 0 if the flag was there, -1 if
 * name has a non-":2," info part (left alone), flag is not a letter or
 * the new name would be longer than POP3_MNAME_MAX. */
int pop3_mname_add_flag(const char *name, char flag, struct str *out);
/* Order of two names: <0, 0, >0 (seconds, then bytes). */
int pop3_mname_cmp(const char *a, const char *b);
/* The sort key of a name: seconds * 10^6 + microseconds (see ORDER). */
uint64_t pop3_mname_stamp(const char *name);
/* The size a reader sees with CRLF line ends for p[0..n), given whether
 * the byte before p was CR: n plus the LFs not preceded by CR. */
uint64_t pop3_crlf_size(const char *p, size_t n, int *prev_cr);

#endif
