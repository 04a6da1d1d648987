/*
 * imap_fetch_parse - the arguments of FETCH (imap_fetch_parse.h)
 */
#include "imapd/imap_fetch_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "util/str.h"

#define IMAP_MODSEQ_MAX 0x7fffffffffffffffULL

/* nz-number at s[*i] (no leading zero, 32 bits). */
static int imap_fetch_nz(const char *s, size_t len, size_t *i, uint32_t *v_r)
{
	uint64_t v = 0;
	size_t start = *i;

	if (*i >= len || s[*i] < '1' || s[*i] > '9')
		return -1;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (uint64_t)(s[*i] - '0');
		if (v > UINT32_MAX || *i - start >= 10)
			return -1;
		(*i)++;
	}
	*v_r = (uint32_t)v;
	return 0;
}

/* number (0 allowed, no leading zeros beyond "0"), 32 bits. */
static int imap_fetch_number(const char *s, size_t len, size_t *i,
			     uint32_t *v_r)
{
	if (*i < len && s[*i] == '0') {
		(*i)++;
		*v_r = 0;
		return *i < len && s[*i] >= '0' && s[*i] <= '9' ? -1 : 0;
	}
	return imap_fetch_nz(s, len, i, v_r);
}

static int imap_field_char(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static int imap_word_at(const char *s, size_t len, size_t i, const char *w)
{
	size_t n = strlen(w);

	return len - i >= n && strncasecmp(s + i, w, n) == 0;
}

/* " (" name *(SP name) ")" at s[*i], to the end of s. */
static int imap_fetch_fields(const char *s, size_t len, size_t i,
			     struct imap_section *sec, const char **error_r)
{
	*error_r = "Invalid header field list";
	if (i >= len || s[i++] != ' ' || i >= len || s[i++] != '(')
		return -1;
	for (;;) {
		size_t start;
		int quoted = 0;

		while (i < len && s[i] == ' ')
			i++;
		if (i < len && s[i] == ')' && sec->nfields > 0)
			break;
		if (i < len && s[i] == '"') {
			quoted = 1;
			i++;
		}
		start = i;
		while (i < len && imap_field_char((unsigned char)s[i]) &&
		       (quoted ? s[i] != '"' && s[i] != '\\' :
			s[i] != '(' && s[i] != ')' && s[i] != '"' &&
			s[i] != '\\' && s[i] != ']' && s[i] != '{'))
			i++;
		if (i == start)
			return -1;
		if (sec->nfields == IMAP_SECTION_FIELDS_MAX) {
			*error_r = "Too many header fields";
			return -1;
		}
		sec->field[sec->nfields] = s + start;
		sec->field_len[sec->nfields] = i - start;
		sec->nfields++;
		if (quoted && (i >= len || s[i++] != '"'))
			return -1;
		if (i < len && s[i] != ' ' && s[i] != ')')
			return -1;
	}
	if (i + 1 != len)
		return -1;
	return 0;
}

int imap_fetch_section_parse(const char *s, size_t len, int binary,
			     struct imap_section *sec, const char **error_r)
{
	size_t i = 0;

	memset(sec, 0, sizeof(*sec));
	sec->kind = IMAP_SECTION_ALL;
	*error_r = "Invalid section";
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (sec->nparts == IMAP_SECTION_PARTS_MAX) {
			*error_r = "Section has too many parts";
			return -1;
		}
		if (imap_fetch_nz(s, len, &i, &sec->part[sec->nparts]) < 0)
			return -1;
		sec->nparts++;
		if (i == len)
			return 0;
		if (s[i++] != '.' || i == len)
			return -1;
	}
	if (i == len)
		return 0;
	if (binary)
		return -1;
	if (imap_word_at(s, len, i, "HEADER.FIELDS.NOT")) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS_NOT;
		return imap_fetch_fields(s, len, i + 17, sec, error_r);
	}
	if (imap_word_at(s, len, i, "HEADER.FIELDS")) {
		sec->kind = IMAP_SECTION_HEADER_FIELDS;
		return imap_fetch_fields(s, len, i + 13, sec, error_r);
	}
	if (imap_word_at(s, len, i, "HEADER") && len - i == 6)
		sec->kind = IMAP_SECTION_HEADER;
	else if (imap_word_at(s, len, i, "TEXT") && len - i == 4)
		sec->kind = IMAP_SECTION_TEXT;
	else if (imap_word_at(s, len, i, "MIME") && len - i == 4 &&
		 sec->nparts > 0)
		sec->kind = IMAP_SECTION_MIME;
	else
		return -1;
	return 0;
}

/* The "]" closing the section that starts at s[open]. */
static size_t imap_fetch_section_close(const char *s, size_t len, size_t open)
{
	int quoted = 0;

	for (size_t i = open + 1; i < len; i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (s[i] == ']' && !quoted)
			return i;
	}
	return 0;
}

static struct imap_fetch_body *imap_fetch_new_body(struct imap_fetch_items *it,
						   const char **error_r)
{
	struct imap_fetch_body *b;

	if (it->nbody == IMAP_FETCH_BODY_MAX) {
		*error_r = "Too many body items";
		return NULL;
	}
	if (it->nbody == it->body_cap) {
		it->body_cap = it->body_cap ? it->body_cap * 2 : 4;
		it->body = xreallocarray(it->body, it->body_cap,
					 sizeof(*it->body));
	}
	b = &it->body[it->nbody++];
	memset(b, 0, sizeof(*b));
	return b;
}

static char *imap_fetch_name(const char *word, const char *sec, size_t n,
			     const struct imap_fetch_body *b)
{
	struct str name = STR_INIT(0);

	str_appends(&name, word);
	if (sec != NULL) {
		str_appendc(&name, '[');
		str_append(&name, sec, n);
		str_appendc(&name, ']');
	}
	if (b->partial)
		str_appendf(&name, "<%u>", b->partial_offset);
	return str_steal(&name);
}

/* BODY[...], BODY.PEEK[...], BINARY[.PEEK][...], BINARY.SIZE[...] */
static int imap_fetch_section_item(struct imap_fetch_items *it, const char *s,
				   size_t len, size_t open,
				   const char **error_r)
{
	static const struct {
		const char *word, *echo;
		enum imap_fetch_body_type type;
		int peek;
	} kinds[] = {
		{ "BODY", "BODY", IMAP_FETCH_BODY_SECTION, 0 },
		{ "BODY.PEEK", "BODY", IMAP_FETCH_BODY_SECTION, 1 },
		{ "BINARY", "BINARY", IMAP_FETCH_BINARY, 0 },
		{ "BINARY.PEEK", "BINARY", IMAP_FETCH_BINARY, 1 },
		{ "BINARY.SIZE", "BINARY.SIZE", IMAP_FETCH_BINARY_SIZE, 1 },
	};
	size_t close = imap_fetch_section_close(s, len, open), i, k;
	struct imap_fetch_body *b;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strlen(kinds[k].word) == open &&
		    strncasecmp(s, kinds[k].word, open) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0]) || close == 0) {
		*error_r = "Invalid fetch attribute";
		return -1;
	}
	if ((b = imap_fetch_new_body(it, error_r)) == NULL)
		return -1;
	b->type = kinds[k].type;
	b->peek = kinds[k].peek;
	if (imap_fetch_section_parse(s + open + 1, close - open - 1,
				     b->type != IMAP_FETCH_BODY_SECTION,
				     &b->section, error_r) < 0)
		return -1;
	i = close + 1;
	if (i < len) {
		*error_r = "Invalid partial";
		if (b->type == IMAP_FETCH_BINARY_SIZE || s[i++] != '<' ||
		    imap_fetch_number(s, len, &i, &b->partial_offset) < 0 ||
		    i >= len || s[i++] != '.' ||
		    imap_fetch_nz(s, len, &i, &b->partial_length) < 0 ||
		    i >= len || s[i++] != '>' || i != len)
			return -1;
		b->partial = 1;
	}
	if (!b->peek)
		it->seen = 1;
	b->name = imap_fetch_name(kinds[k].echo, s + open + 1,
				  close - open - 1, b);
	return 0;
}

static int imap_fetch_rfc822(struct imap_fetch_items *it, const char *word,
			     enum imap_section_kind kind, int peek,
			     const char **error_r)
{
	struct imap_fetch_body *b = imap_fetch_new_body(it, error_r);

	if (b == NULL)
		return -1;
	b->type = IMAP_FETCH_BODY_SECTION;
	b->section.kind = kind;
	b->peek = peek;
	b->name = imap_fetch_name(word, NULL, 0, b);
	if (!peek)
		it->seen = 1;
	return 0;
}

static int imap_fetch_att(struct imap_fetch_items *it,
			  const struct imap_arg *a, const char **error_r)
{
	static const struct { const char *word; unsigned bit; } simple[] = {
		{ "FLAGS", IMAP_FETCH_FLAGS },
		{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
		{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
		{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
		{ "BODY", IMAP_FETCH_BODY },
		{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
		{ "UID", IMAP_FETCH_UID },
		{ "MODSEQ", IMAP_FETCH_MODSEQ },
	};
	const char *open;

	*error_r = "Invalid fetch attribute";
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	open = memchr(a->s, '[', a->len);
	if (open != NULL)
		return imap_fetch_section_item(it, a->s, a->len,
					       (size_t)(open - a->s), error_r);
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++) {
		if (imap_arg_atom_is(a, simple[k].word)) {
			it->atts |= simple[k].bit;
			return 0;
		}
	}
	if (imap_arg_atom_is(a, "RFC822"))
		return imap_fetch_rfc822(it, "RFC822", IMAP_SECTION_ALL, 0,
					 error_r);
	if (imap_arg_atom_is(a, "RFC822.HEADER"))
		return imap_fetch_rfc822(it, "RFC822.HEADER",
					 IMAP_SECTION_HEADER, 1, error_r);
	if (imap_arg_atom_is(a, "RFC822.TEXT"))
		return imap_fetch_rfc822(it, "RFC822.TEXT", IMAP_SECTION_TEXT,
					 0, error_r);
	return -1;
}

static int imap_fetch_modifiers(struct imap_fetch_items *it,
				const struct imap_arg *a, int uid,
				const char **error_r)
{
	*error_r = "Invalid fetch modifiers";
	if (a->type != IMAP_ARG_LIST || a->n == 0)
		return -1;
	for (unsigned i = 0; i < a->n; i++) {
		const struct imap_arg *m = &a->list[i];

		if (imap_arg_atom_is(m, "CHANGEDSINCE") && i + 1 < a->n &&
		    !it->changedsince_set) {
			if (!imap_arg_number(&m[1], IMAP_MODSEQ_MAX,
					     &it->changedsince))
				return -1;
			it->changedsince_set = 1;
			it->atts |= IMAP_FETCH_MODSEQ;
			i++;
		} else if (imap_arg_atom_is(m, "VANISHED") && !it->vanished) {
			it->vanished = 1;
		} else {
			return -1;
		}
	}
	if (it->vanished && (!uid || !it->changedsince_set)) {
		*error_r = "VANISHED needs UID FETCH and CHANGEDSINCE";
		return -1;
	}
	return 0;
}

int imap_fetch_parse(const struct imap_arg *args, unsigned nargs, int uid,
		     struct imap_fetch_items *items, const char **error_r)
{
	const struct imap_arg *a = args;

	memset(items, 0, sizeof(*items));
	*error_r = "Missing fetch attributes";
	if (nargs < 1 || nargs > 2)
		return -1;
	if (imap_arg_atom_is(a, "ALL")) {
		items->atts |= IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE;
	} else if (imap_arg_atom_is(a, "FAST")) {
		items->atts |= IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			IMAP_FETCH_RFC822_SIZE;
	} else if (imap_arg_atom_is(a, "FULL")) {
		items->atts |= IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE |
			IMAP_FETCH_BODY;
	} else if (a->type == IMAP_ARG_LIST) {
		if (a->n == 0)
			return -1;
		for (unsigned i = 0; i < a->n; i++)
			if (imap_fetch_att(items, &a->list[i], error_r) < 0)
				return -1;
	} else if (imap_fetch_att(items, a, error_r) < 0) {
		return -1;
	}
	if (nargs == 2 && imap_fetch_modifiers(items, &args[1], uid,
					       error_r) < 0)
		return -1;
	if (uid)
		items->atts |= IMAP_FETCH_UID;
	return 0;
}

void imap_fetch_items_free(struct imap_fetch_items *items)
{
	for (unsigned i = 0; i < items->nbody; i++) {
		free(items->body[i].name);
		items->body[i].name = NULL;
	}
	free(items->body);
	items->body = NULL;
	items->nbody = items->body_cap = 0;
}
