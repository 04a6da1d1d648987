/*
 * imap_cmd_sort - SORT and THREAD (RFC 5256; DISPLAYFROM and DISPLAYTO of
 *                 RFC 5957), and UID SORT / UID THREAD
 *
 * The messages the search keys select (imap_search.h) are read once each
 * for the header fields the criteria need: Subject (RFC 2047 decoded, then
 * its base subject, imap_sort.h), Date (mail_date_parse; the internal date
 * when it is missing or not a date), the first address of From, To and
 * Cc (its mailbox in lower case; for DISPLAY*, the decoded display name or
 * else the address), and for THREAD Message-ID, References, In-Reply-To.
 * The orderings themselves are imap_sort() and imap_thread().
 */
#include "imap_search.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "imap_message.h"
#include "imap_sort.h"
#include "imap_thread.h"
#include "mail/mail_address.h"
#include "mail/mail_date.h"
#include "mail/mail_header.h"
#include "mail/rfc2047.h"
#include "util/alloc.h"
#include "util/log.h"

#define SORT_FIELD_MAX (64 * 1024)	/* bytes of one header value */

/* What SORT and THREAD keep of one message: the strings own memory. */
struct sort_fields {
	struct imap_sort_msg m;
	struct imap_thread_msg t;
	char *strs[12];
	unsigned nstrs;
};

static const char *keep(struct sort_fields *sf, struct str *v)
{
	if (sf->nstrs >= sizeof(sf->strs) / sizeof(sf->strs[0]))
		return "";
	sf->strs[sf->nstrs] = xstrdup(str_c(v));
	return sf->strs[sf->nstrs++];
}

/* The unfolded value of field name into v ("" if absent). 1 if found. */
static int field(const char *hdr, size_t len, const char *name, struct str *v)
{
	struct mail_header_field f;

	str_clear(v);
	if (!mail_header_find(hdr, len, name, &f))
		return 0;
	(void)mail_header_unfold(f.value, f.value_len, v);
	return 1;
}

/* From/To/Cc: the first address's mailbox, lower case (SORT FROM), or
 * its display name (decoded) else addr-spec (DISPLAYFROM). */
static void address_keys(struct sort_fields *sf, const char *hdr, size_t len,
			 const char *name, const char **mailbox_r,
			 const char **display_r)
{
	struct mail_address_list l = { 0 };
	struct str v = STR_INIT(SORT_FIELD_MAX), out = STR_INIT(SORT_FIELD_MAX);
	const struct mail_address *a = NULL;

	*mailbox_r = "";
	if (display_r)
		*display_r = "";
	if (!field(hdr, len, name, &v))
		goto out;
	mail_address_parse(str_c(&v), v.len, &l);
	for (size_t k = 0; k < l.n && a == NULL; k++)
		if (l.a[k].mailbox)
			a = &l.a[k];
	if (a == NULL)
		goto out;
	(void)str_sets(&out, a->mailbox);
	for (size_t k = 0; k < out.len; k++)
		out.s[k] = (char)tolower((unsigned char)out.s[k]);
	*mailbox_r = keep(sf, &out);
	if (display_r == NULL)
		goto out;
	str_clear(&out);
	if (a->name && a->name[0])
		(void)rfc2047_decode(a->name, strlen(a->name), &out);
	else
		(void)str_appendf(&out, "%s@%s", a->mailbox,
				  a->domain ? a->domain : "");
	for (size_t k = 0; k < out.len; k++)
		out.s[k] = (char)tolower((unsigned char)out.s[k]);
	*display_r = keep(sf, &out);
out:
	mail_address_list_free(&l);
	str_free(&v);
	str_free(&out);
}

/* Read message i's fields. -1 if the message is gone (it then sorts with
 * empty fields, as the RFC wants every selected message in the answer). */
static void sort_read(struct imap_session *s, uint32_t i, int thread,
		      struct sort_fields *sf)
{
	struct str v = STR_INIT(SORT_FIELD_MAX), dec = STR_INIT(SORT_FIELD_MAX);
	struct str block = STR_INIT(0);
	const char *hdr;
	uint64_t size;
	time_t t;
	size_t hl;
	int reply = 0;

	memset(sf, 0, sizeof(*sf));
	sf->m.seq = i + 1;
	sf->m.uid = s->sel->msgs[i].uid;
	sf->m.subject = sf->m.from = sf->m.to = sf->m.cc = "";
	sf->m.displayfrom = sf->m.displayto = "";
	if (imap_folder_msg_sizes(s->sel, i, &size, &sf->m.size,
				  &sf->m.arrival) < 0)
		sf->m.arrival = 0;
	sf->m.date = sf->m.arrival;
	/* the fields from the index's cache (imap_message.h), the file
	 * read only on a miss */
	if (imap_header_get(s->sel, i, NULL, &block) < 0)
		goto done;
	hdr = str_c(&block);
	hl = block.len;
	if (field(hdr, hl, "Date", &v) && mail_date_parse(str_c(&v), &t) == 0)
		sf->m.date = t;
	if (field(hdr, hl, "Subject", &v)) {
		(void)rfc2047_decode(str_c(&v), v.len, &dec);
		if (imap_base_subject(str_c(&dec), dec.len, &v, &reply) == 0)
			sf->m.subject = keep(sf, &v);
	}
	address_keys(sf, hdr, hl, "From", &sf->m.from, &sf->m.displayfrom);
	address_keys(sf, hdr, hl, "To", &sf->m.to, &sf->m.displayto);
	address_keys(sf, hdr, hl, "Cc", &sf->m.cc, NULL);
	if (thread) {
		if (field(hdr, hl, "Message-ID", &v))
			sf->t.message_id = keep(sf, &v);
		if (field(hdr, hl, "References", &v))
			sf->t.references = keep(sf, &v);
		if (field(hdr, hl, "In-Reply-To", &v))
			sf->t.in_reply_to = keep(sf, &v);
	}
done:
	sf->t.seq = sf->m.seq;
	sf->t.date = sf->m.date;
	sf->t.subject = sf->m.subject;
	sf->t.is_reply = reply;
	str_free(&v);
	str_free(&dec);
	str_free(&block);
}

static void sort_free(struct sort_fields *f, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		for (unsigned j = 0; j < f[k].nstrs; j++)
			free(f[k].strs[j]);
	free(f);
}

static struct sort_fields *sort_collect(struct imap_session *s,
					struct imap_search *q, int thread,
					uint32_t *n_r)
{
	uint32_t *hits = NULL, n = imap_search_run(s, q, &hits);
	struct sort_fields *f = xcalloc(n + 1, sizeof(*f));

	for (uint32_t k = 0; k < n; k++)
		sort_read(s, hits[k], thread, &f[k]);
	free(hits);
	*n_r = n;
	return f;
}

void imap_cmd_sort(struct imap_session *s, struct imap_command *c)
{
	struct imap_search q;
	struct imap_sort_msg *m = NULL;
	struct sort_fields *f = NULL;
	struct str line = STR_INIT(0);
	uint32_t n = 0;

	if (imap_search_command(s, c, &q, imap_sort_parse) < 0)
		goto out;
	f = sort_collect(s, &q, 0, &n);
	m = xcalloc(n + 1, sizeof(*m));
	for (uint32_t k = 0; k < n; k++)
		m[k] = f[k].m;
	if (imap_sort(m, n, q.sort, q.nsort) < 0) {
		imap_reply_bad(s, c, "Invalid sort criteria.");
		goto out;
	}
	(void)str_appends(&line, "* SORT");
	for (uint32_t k = 0; k < n; k++)
		(void)str_appendf(&line, " %lu", (unsigned long)
				  (c->uid ? m[k].uid : m[k].seq));
	(void)str_appends(&line, "\r\n");
	if (io_write(&s->io, line.s, line.len) < 0)
		s->logout = 1;
	imap_reply_tagged(s, c, "OK", "Sort completed.");
out:
	free(m);
	if (f)
		sort_free(f, n);
	str_free(&line);
	imap_search_free(&q);
}

void imap_cmd_thread(struct imap_session *s, struct imap_command *c)
{
	struct imap_search q;
	struct imap_thread_msg *t = NULL;
	struct sort_fields *f = NULL;
	struct str line = STR_INIT(0);
	uint32_t n = 0;

	if (imap_search_command(s, c, &q, imap_thread_parse) < 0)
		goto out;
	f = sort_collect(s, &q, 1, &n);
	t = xcalloc(n + 1, sizeof(*t));
	for (uint32_t k = 0; k < n; k++) {
		t[k] = f[k].t;
		t[k].id = c->uid ? f[k].m.uid : f[k].m.seq;
	}
	(void)str_appends(&line, "* THREAD ");
	if (imap_thread(t, n, q.thread_alg, &line) < 0) {
		log_warn(s->id, "THREAD over %lu messages failed",
			 (unsigned long)n);
		imap_reply_tagged(s, c, "NO", "[LIMIT] Too many messages to "
				  "thread.");
		goto out;
	}
	(void)str_appends(&line, "\r\n");
	if (io_write(&s->io, line.s, line.len) < 0)
		s->logout = 1;
	imap_reply_tagged(s, c, "OK", "Thread completed.");
out:
	free(t);
	if (f)
		sort_free(f, n);
	str_free(&line);
	imap_search_free(&q);
}
