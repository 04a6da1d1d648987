/*
 * imap_bodystructure - FETCH BODY and BODYSTRUCTURE (see imap_fetch_body.h)
 */
#include "imapd/imap_fetch_body.h"

#include <string.h>
#include <strings.h>

#include "mail/mime.h"
#include "util/str.h"

#define EMPTY_BODY \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

static int params_write(struct str *out, const struct mime_param *p,
			unsigned n, int default_charset)
{
	int err = 0, seen_charset = 0;

	if (n == 0 && !default_charset)
		return str_appends(out, "NIL");
	err |= str_appendc(out, '(');
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			err |= str_appendc(out, ' ');
		seen_charset |= strcasecmp(p[i].name, "charset") == 0;
		err |= imap_nstring_write(out, p[i].name);
		err |= str_appendc(out, ' ');
		err |= imap_nstring_write(out, p[i].value);
	}
	if (default_charset && !seen_charset)
		err |= str_appends(out, n > 0 ? " \"charset\" \"us-ascii\"" :
					       "\"charset\" \"us-ascii\"");
	return err | str_appendc(out, ')');
}

/* " disposition language location", common to both kinds of part. */
static int extension_write(struct str *out, const struct mime_part *p)
{
	int err = str_appendc(out, ' ');

	if (p->disposition == NULL)
		err |= str_appends(out, "NIL");
	else {
		err |= str_appendc(out, '(');
		err |= imap_nstring_write(out, p->disposition);
		err |= str_appendc(out, ' ');
		err |= params_write(out, p->disp_params, p->ndisp_params, 0);
		err |= str_appendc(out, ')');
	}
	err |= str_appendc(out, ' ');
	if (p->nlanguage == 0)
		err |= str_appends(out, "NIL");
	else {
		err |= str_appendc(out, '(');
		for (unsigned i = 0; i < p->nlanguage; i++) {
			if (i > 0)
				err |= str_appendc(out, ' ');
			err |= imap_nstring_write(out, p->language[i]);
		}
		err |= str_appendc(out, ')');
	}
	err |= str_appendc(out, ' ');
	return err | imap_nstring_write(out, p->location);
}

static int part_write(const char *msg, const struct mime_part *p,
		      int extended, struct str *out);

static int multipart_write(const char *msg, const struct mime_part *p,
			   int extended, struct str *out)
{
	int err = 0;

	if (p->children == NULL)
		err |= str_appends(out, extended ? EMPTY_BODY " NIL NIL NIL NIL)" :
					       EMPTY_BODY ")");
	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		err |= part_write(msg, c, extended, out);
	err |= str_appendc(out, ' ');
	err |= imap_nstring_write(out, p->subtype);
	if (!extended)
		return err;
	err |= str_appendc(out, ' ');
	err |= params_write(out, p->params, p->nparams, 0);
	return err | extension_write(out, p);
}

/* The type and subtype of a part that is not a multipart. */
static int type_write(const struct mime_part *p, struct str *out)
{
	int err;

	if ((p->flags & MIME_PART_MESSAGE) &&
	    (p->type == NULL || strcasecmp(p->subtype, "rfc822") == 0))
		return str_appends(out, "\"message\" \"rfc822\"");
	if (p->type == NULL)
		return str_appends(out, "\"text\" \"plain\"");
	if (!(p->flags & MIME_PART_MESSAGE) &&
	    strcasecmp(p->type, "message") == 0 &&
	    (strcasecmp(p->subtype, "rfc822") == 0 ||
	     strcasecmp(p->subtype, "global") == 0))
		/* past a limit: no encapsulated message to describe */
		return str_appends(out, "\"application\" \"octet-stream\"");
	err = imap_nstring_write(out, p->type);
	err |= str_appendc(out, ' ');
	return err | imap_nstring_write(out, p->subtype);
}

static int leaf_write(const char *msg, const struct mime_part *p,
		      int extended, struct str *out)
{
	int text = (p->flags & MIME_PART_TEXT) != 0, err;

	err = type_write(p, out);
	err |= str_appendc(out, ' ');
	err |= params_write(out, p->params, p->nparams, text);
	err |= str_appendc(out, ' ');
	err |= imap_nstring_write(out, p->id);
	err |= str_appendc(out, ' ');
	err |= imap_nstring_write(out, p->description);
	err |= str_appendc(out, ' ');
	if (p->cte != NULL)
		err |= imap_nstring_write(out, p->cte);
	else
		err |= str_appends(out, "\"7bit\"");
	err |= str_appendf(out, " %zu", p->body_vsize);
	if (text)
		err |= str_appendf(out, " %zu", p->body_lines);
	else if ((p->flags & MIME_PART_MESSAGE) && p->children != NULL) {
		err |= str_appendc(out, ' ');
		err |= imap_envelope_write(msg, p->children, out);
		err |= str_appendc(out, ' ');
		err |= part_write(msg, p->children, extended, out);
		err |= str_appendf(out, " %zu", p->body_lines);
	}
	if (!extended)
		return err;
	err |= str_appendc(out, ' ');
	err |= imap_nstring_write(out, p->md5);
	return err | extension_write(out, p);
}

/* One part in parentheses. */
static int part_write(const char *msg, const struct mime_part *p,
		      int extended, struct str *out)
{
	int err = str_appendc(out, '(');

	if (p->flags & MIME_PART_MULTIPART)
		err |= multipart_write(msg, p, extended, out);
	else
		err |= leaf_write(msg, p, extended, out);
	return err | str_appendc(out, ')');
}

int imap_bodystructure_write(const char *msg, const struct mime_part *root,
			     int extended, struct str *out)
{
	return part_write(msg, root, extended, out) ? -1 : 0;
}
