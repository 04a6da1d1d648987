/*
 * imap_handover - IMAP's hand-over parameter (imap_handover.h)
 */
#include "imap_handover.h"

#include <string.h>

#include "imap_login_cmd.h"
#include "proto/login_handover.h"

static const struct {
	char letter;
	unsigned flag;
} handover_flags[] = {
	{ 'I', IMAP_HANDOVER_ID },
};
#define HANDOVER_NFLAGS (sizeof(handover_flags) / sizeof(handover_flags[0]))

_Static_assert(IMAP_HANDOVER_TAG_MAX + 1 + HANDOVER_NFLAGS <=
	       LOGIN_HANDOVER_PARAM_MAX,
	       "the longest tag with every flag fits the hand-over line");

int imap_handover_format(struct str *out, const char *tag, size_t tag_len,
			 unsigned flags)
{
	str_clear(out);
	if (tag_len > IMAP_HANDOVER_TAG_MAX ||
	    !imap_login_tag_valid(tag, tag_len) ||
	    (flags & ~IMAP_HANDOVER_FLAGS) != 0)
		return -1;
	if (str_append(out, tag, tag_len) < 0)
		goto fail;
	if (flags != 0 && str_appendc(out, '+') < 0)
		goto fail;
	for (size_t i = 0; i < HANDOVER_NFLAGS; i++)
		if ((flags & handover_flags[i].flag) != 0 &&
		    str_appendc(out, handover_flags[i].letter) < 0)
			goto fail;
	return 0;
fail:
	str_clear(out);
	return -1;
}

/* The flag of letter c, or 0. */
static unsigned handover_flag(char c)
{
	for (size_t i = 0; i < HANDOVER_NFLAGS; i++)
		if (handover_flags[i].letter == c)
			return handover_flags[i].flag;
	return 0;
}

int imap_handover_parse(const char *param, struct imap_handover *h)
{
	const char *plus = strchr(param, '+');
	size_t n = plus != NULL ? (size_t)(plus - param) : strlen(param);

	memset(h, 0, sizeof(*h));
	if (n > IMAP_HANDOVER_TAG_MAX || !imap_login_tag_valid(param, n))
		return -1;
	if (plus != NULL) {
		if (plus[1] == '\0')
			goto fail;
		for (const char *f = plus + 1; *f != '\0'; f++) {
			unsigned bit = handover_flag(*f);

			if (bit == 0 || (h->flags & bit) != 0)
				goto fail;
			h->flags |= bit;
		}
	}
	memcpy(h->tag, param, n);
	h->tag[n] = '\0';
	h->tag_len = n;
	return 0;
fail:
	h->flags = 0;
	return -1;
}
