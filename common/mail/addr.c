/*
 * addr - envelope address parsing (RFC 5321 4.1.2, RFC 6531); see addr.h
 *
 * The grammar, as accepted here:
 *
 *   Path       = "<" Mailbox ">"          ; "<@a,@b:" source routes refused
 *   Mailbox    = Local-part "@" ( Domain / address-literal )
 *   Local-part = Dot-string / Quoted-string          ; at most 64 octets
 *   Dot-string = Atom *("." Atom)                    ; atext, UTF-8
 *   Quoted     = DQUOTE *(qtextSMTP / "\" %d32-126) DQUOTE
 *   Domain     = label *("." label)   ; [A-Za-z0-9-], UTF-8, 1..63 octets
 *   literal    = "[" IPv4 "]" / "[IPv6:" IPv6 "]"
 *
 * Each piece is first delimited (a quoted string by its closing quote, a
 * dot-string by '@' or '>', a domain by '>' or the end of the input) and
 * then the delimited span is checked byte by byte, so no check can run
 * past the span, and every length limit is tested before any copy.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "util/str.h"
#include "mail/addr.h"

/* Parsing mode: a path ends at '>', a plain address at the end of input. */
enum addr_mode { MODE_PATH, MODE_PLAIN };

static int fail(const char **error_r, const char *msg)
{
	if (error_r != NULL)
		*error_r = msg;
	return -1;
}

/* Length of the UTF-8 sequence at p[0..left) (p[0] >= 0x80), 0 if it is
 * malformed, overlong, a surrogate, above U+10FFFF or a C1 control. */
static size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned cp, min;
	size_t n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2; cp = p[0] & 0x1f; min = 0xa0;	/* 0x80-0x9f: C1 */
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3; cp = p[0] & 0x0f; min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4; cp = p[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int addr_check_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return -1;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq_len(p + i, len - i);
		if (n == 0)
			return -1;
		i += n;
	}
	return 0;
}

/* Check the character at s[0..left): control characters never pass,
 * 8-bit bytes only as UTF-8 with ADDR_UTF8. *n_r is its length in bytes;
 * 1 means plain ASCII, left for the caller's character class. */
static int char_check(const char *s, size_t left, unsigned flags,
		      size_t *n_r, const char **error_r)
{
	unsigned char c = (unsigned char)s[0];

	*n_r = 1;
	if (c < 0x20 || c == 0x7f)
		return fail(error_r, "control character in address");
	if (c < 0x80)
		return 0;
	if ((flags & ADDR_UTF8) == 0)
		return fail(error_r, "8-bit character in address without SMTPUTF8");
	*n_r = utf8_seq_len((const unsigned char *)s, left);
	if (*n_r == 0)
		return fail(error_r, "invalid UTF-8 in address");
	return 0;
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9');
}

/* RFC 5322 atext */
static int is_atext(unsigned char c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Check s[0..len) as an unquoted Dot-string. */
static int dot_string_check(const char *s, size_t len, unsigned flags,
			    const char **error_r)
{
	size_t i = 0, n, atom = 0;

	if (len == 0)
		return fail(error_r, "empty local part");
	while (i < len) {
		if (s[i] == '.') {
			if (atom == 0)
				return fail(error_r, i == 0 ?
					    "local part begins with a dot" :
					    "empty atom (\"..\") in local part");
			atom = 0;
			i++;
			continue;
		}
		if (char_check(s + i, len - i, flags, &n, error_r) < 0)
			return -1;
		if (n == 1 && !is_atext((unsigned char)s[i]))
			return fail(error_r, "invalid character in local part "
				    "(quote it)");
		atom += n;
		i += n;
	}
	if (atom == 0)
		return fail(error_r, "local part ends with a dot");
	return 0;
}

/* A quoted local part starting at s[0] == '"': copy its content into
 * a->local and set *used_r to the bytes consumed through the closing
 * quote. The raw form is bounded by ADDR_LOCAL_MAX, so is the copy. */
static int quoted_parse(const char *s, size_t len, unsigned flags,
			struct addr *a, size_t *used_r, const char **error_r)
{
	size_t i = 1, o = 0, n;
	unsigned char c;

	while (i < len && s[i] != '"') {
		if (i >= ADDR_LOCAL_MAX)
			return fail(error_r, "local part longer than 64 octets");
		if (s[i] == '\\') {
			if (++i == len)
				break;
			c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7f)
				return fail(error_r, "control character in address");
			if (c > 0x7e)
				return fail(error_r, "invalid quoted-pair in local part");
			a->local[o++] = s[i++];
			continue;
		}
		if (char_check(s + i, len - i, flags, &n, error_r) < 0)
			return -1;
		if (i + n > ADDR_LOCAL_MAX)
			return fail(error_r, "local part longer than 64 octets");
		memcpy(a->local + o, s + i, n);
		o += n;
		i += n;
	}
	if (i >= len)
		return fail(error_r, "unterminated quoted string in local part");
	if (i + 1 > ADDR_LOCAL_MAX)
		return fail(error_r, "local part longer than 64 octets");
	if (o == 0)
		return fail(error_r, "empty local part");
	a->local[o] = '\0';
	a->local_len = o;
	*used_r = i + 1;
	return 0;
}

/* The local part at s[0..len), quoted or a dot-string; *used_r is its raw
 * length. A dot-string ends at '@' or, in a path, '>'. */
static int local_parse(const char *s, size_t len, unsigned flags,
		       enum addr_mode mode, struct addr *a, size_t *used_r,
		       const char **error_r)
{
	size_t n = 0;

	if (len > 0 && s[0] == '"')
		return quoted_parse(s, len, flags, a, used_r, error_r);
	while (n < len && s[n] != '@' && !(mode == MODE_PATH && s[n] == '>'))
		n++;
	if (n > ADDR_LOCAL_MAX)
		return fail(error_r, "local part longer than 64 octets");
	if (dot_string_check(s, n, flags, error_r) < 0)
		return -1;
	memcpy(a->local, s, n);
	a->local[n] = '\0';
	a->local_len = n;
	*used_r = n;
	return 0;
}

static int relay_tricks_check(const struct addr *a, const char **error_r)
{
	if (memchr(a->local, '%', a->local_len) != NULL)
		return fail(error_r, "'%' in local part is not accepted (%-hack)");
	if (memchr(a->local, '!', a->local_len) != NULL)
		return fail(error_r, "'!' in local part is not accepted (bang path)");
	if (memchr(a->local, '@', a->local_len) != NULL)
		return fail(error_r, "'@' in local part is not accepted");
	return 0;
}

/* An address literal "[...]" at s[0..len), with s[0] == '['. */
static int literal_check(const char *s, size_t len, const char **error_r)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char buf[INET6_ADDRSTRLEN + 1];
	const char *in = s + 1;
	size_t n;
	int af = AF_INET;

	if (len < 2 || s[len - 1] != ']')
		return fail(error_r, "unterminated address literal");
	n = len - 2;
	if (n >= 5 && strncasecmp(in, "IPv6:", 5) == 0) {
		af = AF_INET6;
		in += 5;
		n -= 5;
	} else if (memchr(in, ':', n) != NULL) {
		return fail(error_r, "unsupported address literal (not IPv4 or IPv6)");
	}
	if (n == 0 || n >= sizeof(buf) || memchr(in, '\0', n) != NULL)
		return fail(error_r, "invalid address literal");
	memcpy(buf, in, n);
	buf[n] = '\0';
	if (inet_pton(af, buf, bin) != 1)
		return fail(error_r, af == AF_INET ? "invalid IPv4 address literal" :
			    "invalid IPv6 address literal");
	return 0;
}

/* One character of a domain name at s[i]; updates the label length. */
static int domain_char(const char *s, size_t len, size_t i, unsigned flags,
		       size_t *label, size_t *n_r, const char **error_r)
{
	unsigned char c = (unsigned char)s[i];

	if (char_check(s + i, len - i, flags, n_r, error_r) < 0)
		return -1;
	if (*n_r == 1 && !is_alnum(c) && c != '-')
		return fail(error_r, "invalid character in domain");
	if (c == '-' && *label == 0)
		return fail(error_r, "domain label begins with a hyphen");
	*label += *n_r;
	if (*label > ADDR_LABEL_MAX)
		return fail(error_r, "domain label longer than 63 octets");
	return 0;
}

static int domain_name_check(const char *s, size_t len, unsigned flags,
			     const char **error_r)
{
	size_t i = 0, n, label = 0;

	while (i < len) {
		if (s[i] == '.') {
			if (label == 0)
				return fail(error_r, i == 0 ?
					    "domain begins with a dot" :
					    "empty label in domain");
			if (s[i - 1] == '-')
				return fail(error_r, "domain label ends with a hyphen");
			label = 0;
			i++;
			continue;
		}
		if (domain_char(s, len, i, flags, &label, &n, error_r) < 0)
			return -1;
		i += n;
	}
	if (label == 0)
		return fail(error_r, "domain ends with a dot");
	if (s[len - 1] == '-')
		return fail(error_r, "domain label ends with a hyphen");
	return 0;
}

int addr_check_domain(const char *s, size_t len, unsigned flags,
		      const char **error_r)
{
	if (len == 0)
		return fail(error_r, "empty domain");
	if (len > ADDR_DOMAIN_MAX)
		return fail(error_r, "domain longer than 255 octets");
	if (s[0] == '[')
		return literal_check(s, len, error_r);
	return domain_name_check(s, len, flags, error_r);
}

/* Copy a checked domain into a->domain, ASCII letters lowercased (the
 * "IPv6:" tag of a literal keeps its conventional spelling). */
static void domain_store(struct addr *a, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		a->domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	a->domain[len] = '\0';
	a->domain_len = len;
	a->is_literal = len > 0 && s[0] == '[';
	if (a->is_literal && strncmp(a->domain + 1, "ipv6:", 5) == 0)
		memcpy(a->domain + 1, "IPv6", 4);
}

/* A mailbox without domain: allowed for Postmaster or by flag. */
static int no_domain_check(const struct addr *a, unsigned flags,
			   const char **error_r)
{
	if (flags & ADDR_ALLOW_NO_DOMAIN)
		return 0;
	if ((flags & ADDR_ALLOW_POSTMASTER) &&
	    strcasecmp(a->local, "postmaster") == 0)
		return 0;
	return fail(error_r, "address has no domain");
}

/* The domain after '@': s[0..len) is the rest of the input; it ends at
 * '>' in a path. *used_r is its length. */
static int domain_parse(const char *s, size_t len, enum addr_mode mode,
			unsigned flags, struct addr *a, size_t *used_r,
			const char **error_r)
{
	const char *end = s + len;

	if (mode == MODE_PATH) {
		end = memchr(s, '>', len);
		if (end == NULL)
			return fail(error_r, "missing '>' at the end of the address");
	}
	if (addr_check_domain(s, (size_t)(end - s), flags, error_r) < 0)
		return -1;
	domain_store(a, s, (size_t)(end - s));
	*used_r = (size_t)(end - s);
	return 0;
}

/* Local part and optional "@domain" at s[0..len). *used_r is the number
 * of bytes consumed, not counting a closing '>'. */
static int mailbox_parse(const char *s, size_t len, unsigned flags,
			 enum addr_mode mode, struct addr *a, size_t *used_r,
			 const char **error_r)
{
	size_t local_raw, dom = 0;

	if (local_parse(s, len, flags, mode, a, &local_raw, error_r) < 0)
		return -1;
	if ((flags & ADDR_REJECT_RELAY_TRICKS) &&
	    relay_tricks_check(a, error_r) < 0)
		return -1;
	if (local_raw < len && s[local_raw] == '@') {
		if (domain_parse(s + local_raw + 1, len - local_raw - 1, mode,
				 flags, a, &dom, error_r) < 0)
			return -1;
		if (local_raw + 1 + dom > ADDR_MAX)
			return fail(error_r, "address longer than 254 octets");
		*used_r = local_raw + 1 + dom;
		return 0;
	}
	if (mode == MODE_PATH && (local_raw == len || s[local_raw] != '>'))
		return fail(error_r, local_raw == len ?
			    "missing '>' at the end of the address" :
			    "invalid character after local part");
	if (mode == MODE_PLAIN && local_raw != len)
		return fail(error_r, "invalid character after local part");
	if (no_domain_check(a, flags, error_r) < 0)
		return -1;
	*used_r = local_raw;
	return 0;
}

int addr_parse_path(const char *s, size_t len, unsigned flags,
		    struct addr *a, const char **error_r)
{
	size_t used;

	memset(a, 0, sizeof(*a));
	if (len == 0 || s[0] != '<')
		return fail(error_r, "address must be enclosed in <>");
	if (len >= 2 && s[1] == '>') {
		if ((flags & ADDR_ALLOW_NULL) == 0)
			return fail(error_r, "null address <> not allowed here");
		a->is_null = 1;
		return 2;
	}
	if (len >= 2 && s[1] == '@')
		return fail(error_r, "source routes are not accepted");
	if (mailbox_parse(s + 1, len - 1, flags, MODE_PATH, a, &used,
			  error_r) < 0) {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	/* mailbox_parse stopped at the '>' it found: */
	return (int)used + 2;
}

int addr_parse_plain(const char *s, unsigned flags, struct addr *a,
		     const char **error_r)
{
	size_t len = strlen(s), used;
	int n;

	memset(a, 0, sizeof(*a));
	if (len == 0) {
		if ((flags & ADDR_ALLOW_NULL) == 0)
			return fail(error_r, "empty address");
		a->is_null = 1;
		return 0;
	}
	if (s[0] == '<') {
		n = addr_parse_path(s, len, flags, a, error_r);
		if (n >= 0 && (size_t)n != len) {
			memset(a, 0, sizeof(*a));
			return fail(error_r, "characters after the address");
		}
		return n < 0 ? -1 : 0;
	}
	if (s[0] == '@')
		return fail(error_r, "source routes are not accepted");
	if (mailbox_parse(s, len, flags, MODE_PLAIN, a, &used, error_r) < 0) {
		memset(a, 0, sizeof(*a));
		return -1;
	}
	return 0;
}

int addr_local_needs_quoting(const struct addr *a)
{
	if (a->is_null)
		return 0;
	return dot_string_check(a->local, a->local_len, ADDR_UTF8, NULL) < 0;
}

static int local_format(const struct addr *a, struct str *out)
{
	size_t i;

	if (!addr_local_needs_quoting(a))
		return str_append(out, a->local, a->local_len);
	if (str_appendc(out, '"') < 0)
		return -1;
	for (i = 0; i < a->local_len; i++) {
		if ((a->local[i] == '"' || a->local[i] == '\\') &&
		    str_appendc(out, '\\') < 0)
			return -1;
		if (str_appendc(out, a->local[i]) < 0)
			return -1;
	}
	return str_appendc(out, '"');
}

int addr_format(const struct addr *a, struct str *out)
{
	if (a->is_null)
		return 0;
	if (local_format(a, out) < 0)
		return -1;
	if (a->domain_len == 0)
		return 0;
	if (str_appendc(out, '@') < 0)
		return -1;
	return str_append(out, a->domain, a->domain_len);
}

int addr_is_ascii(const struct addr *a)
{
	size_t i;

	for (i = 0; i < a->local_len; i++) {
		if ((unsigned char)a->local[i] >= 0x80)
			return 0;
	}
	for (i = 0; i < a->domain_len; i++) {
		if ((unsigned char)a->domain[i] >= 0x80)
			return 0;
	}
	return 1;
}

int addr_split_extension(const char *local, size_t len, char sep,
			 size_t *base_len_r, const char **ext_r)
{
	const char *p = memchr(local, sep, len);

	if (p == NULL || p == local) {
		*base_len_r = len;
		*ext_r = NULL;
		return 0;
	}
	*base_len_r = (size_t)(p - local);
	*ext_r = p + 1;
	return 1;
}
