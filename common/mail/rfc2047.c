/*
 * rfc2047 - encoded-words (see rfc2047.h)
 */
#include "mail/rfc2047.h"

#include <errno.h>
#include <ctype.h>
#include <iconv.h>
#include <string.h>
#include <strings.h>

#include "util/base64.h"
#include "util/str.h"

#define RFC2047_CHARSET_MAX 64	/* longer charset names are not words */
/* RFC 2047 2 allows 75 octets; longer ones exist in the wild. The cap keeps
 * a header of many "=?" without "?=" linear. */
#define RFC2047_WORD_MAX 1024

static int charset_is(const char *cs, const char *name)
{
	return strcasecmp(cs, name) == 0;
}

/* Append the UTF-8 bytes of in[0..n), invalid sequences as U+FFFD. */
static int utf8_append_valid(const unsigned char *in, size_t n,
			     struct str *out)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = in[i];
		size_t need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 :
			      c >= 0xe0 && c <= 0xef ? 2 :
			      c >= 0xf0 && c <= 0xf4 ? 3 : 99;
		size_t k;

		for (k = 1; need != 99 && k <= need && i + k < n; k++)
			if ((in[i + k] & 0xc0) != 0x80)
				break;
		if (need != 99 && k == need + 1 &&
		    !(c == 0xe0 && in[i + 1] < 0xa0) &&
		    !(c == 0xed && in[i + 1] > 0x9f) &&
		    !(c == 0xf0 && in[i + 1] < 0x90) &&
		    !(c == 0xf4 && in[i + 1] > 0x8f)) {
			if (str_append(out, in + i, need + 1) < 0)
				return -1;
			i += need + 1;
		} else {
			if (str_append(out, "\xef\xbf\xbd", 3) < 0)
				return -1;
			i++;
		}
	}
	return 0;
}

static int iconv_append(iconv_t cd, const char *in, size_t n,
			struct str *out)
{
	char buf[1024];

	while (n > 0) {
		char *ip = (char *)in, *op = buf;
		size_t il = n, ol = sizeof(buf);
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		int e = errno;

		if (str_append(out, buf, (size_t)(op - buf)) < 0)
			return -1;
		in = ip;
		n = il;
		if (r == (size_t)-1 && e != E2BIG) {
			/* EILSEQ, or EINVAL: a truncated sequence at the end */
			if (str_append(out, "\xef\xbf\xbd", 3) < 0)
				return -1;
			in++;
			n--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	return 0;
}

/* Converters opened by charset_preload(), kept for the process's life:
 * the one table of this module, filled once before a process confines
 * itself and only read afterwards. */
static const char *const preload_names[] = {
	"ISO-8859-1", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4",
	"ISO-8859-5", "ISO-8859-6", "ISO-8859-7", "ISO-8859-8",
	"ISO-8859-9", "ISO-8859-10", "ISO-8859-13", "ISO-8859-14",
	"ISO-8859-15", "ISO-8859-16", "WINDOWS-1250", "WINDOWS-1251",
	"WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254", "WINDOWS-1255",
	"WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258", "KOI8-R", "KOI8-U",
	"GB2312", "GBK", "GB18030", "BIG5", "SHIFT_JIS", "EUC-JP",
	"ISO-2022-JP", "EUC-KR", "ISO-2022-KR", "UTF-16", "UTF-7", "CP850",
	"CP437", "CP866", "TIS-620",
};
#define PRELOAD_N (sizeof(preload_names) / sizeof(preload_names[0]))
static iconv_t preloaded[PRELOAD_N];
static int preload_done;

void charset_preload(void)
{
	if (preload_done)
		return;
	for (size_t i = 0; i < PRELOAD_N; i++)
		preloaded[i] = iconv_open("UTF-8", preload_names[i]);
	preload_done = 1;
}

/* A preloaded converter for charset ("latin1" and "iso8859-1" spellings
 * too: the comparison ignores case and '-' / '_'), or (iconv_t)-1. */
static iconv_t preload_find(const char *charset)
{
	for (size_t i = 0; preload_done && i < PRELOAD_N; i++) {
		const char *a = charset, *b = preload_names[i];

		for (;;) {
			while (*a == '-' || *a == '_')
				a++;
			while (*b == '-' || *b == '_')
				b++;
			if (*a == '\0' || *b == '\0' ||
			    tolower((unsigned char)*a) !=
			    tolower((unsigned char)*b))
				break;
			a++;
			b++;
		}
		if (*a == '\0' && *b == '\0')
			return preloaded[i];
	}
	return (iconv_t)-1;
}

int charset_to_utf8(const char *charset, const char *in, size_t n,
		    struct str *out)
{
	iconv_t cd;
	int r;

	if (charset_is(charset, "utf-8") || charset_is(charset, "utf8") ||
	    charset_is(charset, "us-ascii") || charset_is(charset, "ascii"))
		return utf8_append_valid((const unsigned char *)in, n, out);
	cd = preload_find(charset);
	if (cd != (iconv_t)-1) {
		(void)iconv(cd, NULL, NULL, NULL, NULL);	/* reset */
		return iconv_append(cd, in, n, out);
	}
	cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return 1;
	r = iconv_append(cd, in, n, out);
	iconv_close(cd);
	return r;
}

/* Decode the text of a Q word; -1 with errno EINVAL if it is not
 * quoted-printable, EMSGSIZE past out's cap (out full). */
static int word_q_decode(const char *t, size_t n, struct str *out)
{
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)t[i], h, l;

		if (c == '_')
			c = ' ';
		else if (c == '=' && i + 2 < n &&
			 (h = hex_digit_value((unsigned char)t[i + 1])) >= 0 &&
			 (l = hex_digit_value((unsigned char)t[i + 2])) >= 0) {
			c = h * 16 + l;
			i += 2;
		} else if (c == '=') {
			errno = EINVAL;
			return -1;
		}
		if (str_appendc(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

struct ew {
	char charset[RFC2047_CHARSET_MAX + 1];
	size_t len;		/* bytes of the whole word */
};

/* Parse an encoded-word at s[0..n) and append its decoded bytes to raw:
 * 1 (and *w) if there is one, 0 if not (raw unchanged), -1 past cap. */
static int ew_parse(const char *s, size_t n, struct ew *w, struct str *raw)
{
	size_t i = 2, cs, csend, t, tend;
	const char *q;
	size_t old = raw->len;
	int r;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	if (n > RFC2047_WORD_MAX)
		n = RFC2047_WORD_MAX;
	cs = i;
	while (i < n && s[i] != '?' && s[i] != ' ' && s[i] != '\t' &&
	       s[i] != '\r' && s[i] != '\n')
		i++;
	if (i + 2 >= n || s[i] != '?' || i == cs)
		return 0;
	csend = i;
	q = memchr(s + cs, '*', csend - cs);
	if (q != NULL)
		csend = (size_t)(q - s);	/* RFC 2231 language */
	if (csend - cs > RFC2047_CHARSET_MAX || csend == cs)
		return 0;
	if (s[i + 2] != '?' || strchr("BbQq", s[i + 1]) == NULL)
		return 0;
	t = i + 3;
	tend = t;
	while (tend + 1 < n && !(s[tend] == '?' && s[tend + 1] == '=')) {
		if (s[tend] == ' ' || s[tend] == '\t' || s[tend] == '\r' ||
		    s[tend] == '\n')
			return 0;
		tend++;
	}
	if (tend + 1 >= n)
		return 0;
	memcpy(w->charset, s + cs, csend - cs);
	w->charset[csend - cs] = '\0';
	w->len = tend + 2;
	if (s[i + 1] == 'B' || s[i + 1] == 'b')
		r = base64_decode_lenient(raw, s + t, tend - t);
	else
		r = word_q_decode(s + t, tend - t, raw);
	if (r < 0) {
		/* past the cap (B appends nothing then, Q up to the cap) */
		if (errno == EMSGSIZE ||
		    (raw->max != 0 && raw->len >= raw->max))
			return -1;
		str_truncate(raw, old);
		return 0;
	}
	return 1;
}

/* Convert the pending bytes of adjacent words to UTF-8 into out. When the
 * charset is unknown the original words are copied instead. */
static int ew_flush(const char *charset, struct str *raw, const char *orig,
		    size_t orig_len, struct str *out)
{
	int r;

	if (orig_len == 0)
		return 0;
	r = charset_to_utf8(charset, raw->s == NULL ? "" : raw->s, raw->len,
			    out);
	if (r == 1)
		r = str_append(out, orig, orig_len);
	str_clear(raw);
	return r;
}

int rfc2047_decode(const char *in, size_t n, struct str *out)
{
	struct str raw = STR_INIT(out->max);
	char charset[RFC2047_CHARSET_MAX + 1] = "";
	size_t i = 0, run = 0, run_len = 0;	/* the pending words' bytes */
	int r = 0;

	while (i < n && r == 0) {
		struct ew w;
		size_t j = i;
		int got;

		while (j < n && (in[j] == ' ' || in[j] == '\t' ||
				 in[j] == '\r' || in[j] == '\n'))
			j++;
		if (run_len > 0 && j < n && in[j] == '=') {
			/* blanks between two words vanish */
			size_t before = raw.len;

			got = ew_parse(in + j, n - j, &w, &raw);
			if (got < 0)
				break;
			if (got == 1 && strcasecmp(w.charset, charset) == 0) {
				run_len = j + w.len - run;
				i = j + w.len;
				continue;
			}
			if (got == 1) {
				/* another charset: flush, keep this one */
				struct str mine = STR_INIT(out->max);

				r = str_append(&mine, raw.s + before,
					       raw.len - before);
				str_truncate(&raw, before);
				if (r == 0)
					r = ew_flush(charset, &raw, in + run,
						     run_len, out);
				if (r == 0)
					r = str_set(&raw, mine.s, mine.len);
				str_free(&mine);
				memcpy(charset, w.charset, sizeof(charset));
				run = j;
				run_len = w.len;
				i = j + w.len;
				continue;
			}
		}
		if (run_len > 0) {
			r = ew_flush(charset, &raw, in + run, run_len, out);
			run_len = 0;
			if (r != 0)
				break;
		}
		got = ew_parse(in + i, n - i, &w, &raw);
		if (got < 0) {
			r = -1;
			break;
		}
		if (got == 1) {
			memcpy(charset, w.charset, sizeof(charset));
			run = i;
			run_len = w.len;
			i += w.len;
			continue;
		}
		if (in[i] != '\r' && in[i] != '\n')
			r = str_appendc(out, in[i]);
		i++;
	}
	if (r == 0 && run_len > 0)
		r = ew_flush(charset, &raw, in + run, run_len, out);
	str_free(&raw);
	return r < 0 ? -1 : 0;
}
