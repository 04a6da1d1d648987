/*
 * fuzz_imap_thread - RFC 5256 base subjects and THREAD (imap_sort.h,
 * imap_thread.h)
 *
 * The input is up to FUZZ_MSGS lines, one message each:
 *   date "|" subject "|" message-id "|" references "|" in-reply-to
 * (a field that is missing is NULL; the date is the decimal number at the
 * start, mod 16, so that dates tie). Invariants, abort() otherwise:
 *   - a base subject is no longer than its subject, is its own base
 *     subject, and that second pass finds no reply
 *   - both algorithms' output is a well-formed thread-list sequence
 *     (RFC 5256 grammar: nested lists come two or more at a time) in
 *     which every id appears exactly once
 *   - REFERENCES gives the same answer twice (its hash keys are random)
 *   - with a cap too small for the answer: -1, EMSGSIZE, out unchanged
 *
 *   make fuzz && build-fuzz/fuzz/fuzz_imap_thread -max_total_time=60 \
 *       tests/fuzz/corpus/fuzz_imap_thread
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imapd/imap_sort.h"
#include "imapd/imap_thread.h"

#define FUZZ_MSGS 64

struct fuzz_msgs {
	struct imap_thread_msg m[FUZZ_MSGS];
	struct str base[FUZZ_MSGS];
	char *field[FUZZ_MSGS][4];
	size_t n;
};

static void check_base(const char *s, size_t len, struct str *base,
		       int *reply_r)
{
	struct str again = STR_INIT(0);
	int reply2;

	if (imap_base_subject(s, len, base, reply_r) < 0 || base->len > len ||
	    imap_base_subject(base->s, base->len, &again, &reply2) < 0 ||
	    again.len != base->len || reply2 != 0 ||
	    (base->len > 0 && memcmp(again.s, base->s, base->len) != 0))
		abort();
	str_free(&again);
}

/* Split line [p, end) at '|' into date and four fields. */
static void parse_line(struct fuzz_msgs *fm, const char *p, const char *end)
{
	size_t i = fm->n++;
	struct imap_thread_msg *m = &fm->m[i];
	const char *f[6];
	int nf = 0;
	long date = 0;

	f[nf++] = p;
	for (const char *q = p; q < end && nf < 6; q++)
		if (*q == '|')
			f[nf++] = q + 1;
	while (p < end && *p >= '0' && *p <= '9' && date < 100000)
		date = date * 10 + (*p++ - '0');
	memset(m, 0, sizeof(*m));
	m->id = m->seq = (uint32_t)i + 1;
	m->date = date % 16;
	str_init(&fm->base[i], 0);
	for (int k = 0; k < 4; k++) {
		const char *b = k + 1 < nf ? f[k + 1] : NULL;
		const char *e = k + 2 < nf ? f[k + 2] - 1 : end;

		fm->field[i][k] = b != NULL ? strndup(b, (size_t)(e - b)) : NULL;
		if (b != NULL && fm->field[i][k] == NULL)
			abort();
	}
	if (fm->field[i][0] != NULL)
		check_base(fm->field[i][0], strlen(fm->field[i][0]),
			   &fm->base[i], &m->is_reply);
	m->subject = fm->field[i][0] != NULL ? str_c(&fm->base[i]) : NULL;
	m->message_id = fm->field[i][1];
	m->references = fm->field[i][2];
	m->in_reply_to = fm->field[i][3];
}

struct parse {
	const char *p, *end;
	unsigned char *seen;
	size_t n;
};

static int parse_list(struct parse *ps);

/* thread-nested = 2*thread-list, up to the ")" of the enclosing list */
static int parse_nested(struct parse *ps)
{
	int lists = 0;

	while (ps->p < ps->end && *ps->p == '(') {
		if (parse_list(ps) < 0)
			return -1;
		lists++;
	}
	return lists >= 2 ? 0 : -1;
}

static int parse_number(struct parse *ps)
{
	unsigned long v = 0;

	if (ps->p >= ps->end || *ps->p < '1' || *ps->p > '9')
		return -1;
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9' && v <= ps->n)
		v = v * 10 + (unsigned long)(*ps->p++ - '0');
	if (v == 0 || v > ps->n || ps->seen[v - 1]++)
		return -1;
	return 0;
}

/* thread-list; recursion bounded by the number of messages */
static int parse_list(struct parse *ps)
{
	if (ps->p >= ps->end || *ps->p++ != '(')
		return -1;
	if (ps->p < ps->end && *ps->p == '(') {
		if (parse_nested(ps) < 0)
			return -1;
	} else {
		if (parse_number(ps) < 0)
			return -1;
		while (ps->p < ps->end && *ps->p == ' ') {
			ps->p++;
			if (ps->p < ps->end && *ps->p == '(') {
				if (parse_nested(ps) < 0)
					return -1;
				break;
			}
			if (parse_number(ps) < 0)
				return -1;
		}
	}
	if (ps->p >= ps->end || *ps->p++ != ')')
		return -1;
	return 0;
}

static void check_output(const struct str *out, size_t n)
{
	unsigned char seen[FUZZ_MSGS] = { 0 };
	struct parse ps = { out->s, out->s + out->len, seen, n };

	if ((n == 0) != (out->len == 0))
		abort();
	while (ps.p < ps.end)
		if (parse_list(&ps) < 0)
			abort();
	for (size_t i = 0; i < n; i++)
		if (seen[i] != 1)
			abort();
}

static void check_thread(const struct fuzz_msgs *fm, enum imap_thread_alg alg)
{
	struct str out = STR_INIT(0), again = STR_INIT(0), small;

	if (imap_thread(fm->m, fm->n, alg, &out) < 0)
		abort();
	check_output(&out, fm->n);
	if (imap_thread(fm->m, fm->n, alg, &again) < 0 ||
	    again.len != out.len ||
	    (out.len > 0 && memcmp(again.s, out.s, out.len) != 0))
		abort();
	if (out.len > 2) {
		str_init(&small, out.len);	/* "x" and the answer: too long */
		str_appendc(&small, 'x');
		errno = 0;
		if (imap_thread(fm->m, fm->n, alg, &small) != -1 ||
		    errno != EMSGSIZE || small.len != 1 || small.s[0] != 'x')
			abort();
		str_free(&small);
	}
	str_free(&out);
	str_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_msgs fm;
	const char *p = (const char *)data, *end = p + size;

	fm.n = 0;
	while (p < end && fm.n < FUZZ_MSGS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			nl = end;
		parse_line(&fm, p, nl);
		p = nl + 1;
	}
	check_thread(&fm, IMAP_THREAD_REFERENCES);
	check_thread(&fm, IMAP_THREAD_ORDEREDSUBJECT);
	for (size_t i = 0; i < fm.n; i++) {
		str_free(&fm.base[i]);
		for (int k = 0; k < 4; k++)
			free(fm.field[i][k]);
	}
	return 0;
}
