/*
 * local_deliver - one request: check the message descriptor, find the
 * Maildir, refuse a Delivered-To: loop, write the file (maildir.h)
 *
 * Every failure becomes a reply in one place, local_outcome(): errno
 * values and the failed step are translated there and nowhere else.
 * Everything but a loop is temporary: a missing Maildir may be created
 * later, a full disk may be cleaned, so the queue manager retries until
 * queue_lifetime.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/maildir.h"
#include "proto/queue_id.h"
#include "util/log.h"

/* Longest recipient quoted in a reply (replies are capped). */
#define REASON_ADDR_MAX 200

enum local_fail {
	LF_NONE,
	LF_NOMAILBOX,		/* the Maildir or its tmp/, new/ is missing */
	LF_LOOP,		/* Delivered-To: for this recipient */
	LF_SHORT,		/* the descriptor is shorter than the request */
	LF_SYSTEM,		/* errno in err, during step */
};

/* The one translation of a failure into a reply (STYLE.md 6). */
static enum delivery_status local_outcome(enum local_fail why, int err,
					  const char *step,
					  const struct delivery_req *req,
					  struct str *reason)
{
	str_clear(reason);
	switch (why) {
	case LF_NONE:
		return DELIVERY_OK;
	case LF_NOMAILBOX:
		str_appends(reason, "4.2.0 mailbox does not exist");
		return DELIVERY_TEMP;
	case LF_LOOP:
		str_appendf(reason, "5.4.6 mail forwarding loop for %.*s",
			    REASON_ADDR_MAX, req->rcpt);
		return DELIVERY_PERM;
	case LF_SHORT:
		str_appends(reason, "4.3.0 message file is shorter than the "
			    "request");
		return DELIVERY_TEMP;
	case LF_SYSTEM:
		break;
	}
	if (err == ENOSPC || err == EDQUOT)
		str_appendf(reason, "4.2.2 mailbox full (%s: %s)", step,
			    strerror(err));
	else if (err == ENODATA)
		str_appends(reason, "4.3.0 message file is shorter than the "
			    "request");
	else
		str_appendf(reason, "4.3.0 %s: %s", step, strerror(err));
	return DELIVERY_TEMP;
}

/* Is the descriptor a regular file holding offset + size bytes? */
static int message_ok(int fd, const struct delivery_req *req)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (uint64_t)st.st_size >= req->offset + req->size;
}

/* Open mail_root/DOMAIN/USER without following a link in the last two
 * components. mail_root stays open for the process's life (a new
 * configuration starts new processes). -1 with errno. */
static int maildir_open(struct local_agent *la, const struct delivery_req *req)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int dom, box = -1, saved;

	if (la->root_fd < 0)
		la->root_fd = open(la->conf->mail_root, O_RDONLY | O_DIRECTORY |
				   O_CLOEXEC);
	if (la->root_fd < 0)
		return -1;
	dom = openat(la->root_fd, req->domain, flags);
	if (dom >= 0) {
		box = openat(dom, req->user, flags);
		saved = errno;
		close(dom);
		errno = saved;
	}
	return box;
}

static int is_missing(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ELOOP;
}

/* The Maildir base name of this message for this recipient, the same at
 * every attempt (maildir.h, IDEMPOTENT): Dovecot's "<secs>.M<usecs>P..Q.."
 * form from the queue file's arrival time and inode (which make the
 * queue id unique) and a hash of the recipient. -1 for an id that does
 * not parse: then a fresh name is used. */
static int unique_make(const struct local_agent *la,
		       const struct delivery_req *req, struct str *out)
{
	struct timespec t;
	uint32_t h = 2166136261u;	/* FNV-1a */
	ino_t ino;

	if (queue_id_parse(req->id, &ino, &t) < 0)
		return -1;
	for (const char *p = req->rcpt; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return str_appendf(out, "%lld.M%ldP%lluQ%u.%s", (long long)t.tv_sec,
			   t.tv_nsec / 1000, (unsigned long long)ino, h,
			   str_c(&la->host));
}

static void prefix_make(const struct delivery_req *req, struct str *out)
{
	str_appendf(out, "Return-Path: <%s>\nDelivered-To: %s\n", req->sender,
		    req->rcpt);
}

/* Write the file; the failure kind and step on error. */
static enum local_fail write_file(struct local_agent *la, int mfd, int fd,
				  const struct delivery_req *req,
				  const struct str *hdr, int *err,
				  const char **step)
{
	struct str prefix = STR_INIT(0), name = STR_INIT(0);
	struct str unique = STR_INIT(0);
	struct maildir_delivery d;
	enum local_fail r = LF_NONE;

	prefix_make(req, &prefix);
	d.unique = unique_make(la, req, &unique) == 0 ? str_c(&unique) : NULL;
	d.maildir_fd = mfd;
	d.host = str_c(&la->host);
	d.counter = &la->counter;
	d.prefix = prefix.s;
	d.prefix_len = prefix.len;
	d.src_fd = fd;
	d.offset = req->offset;
	d.size = req->size;
	/* a small message was read whole with its header: not again */
	d.data = hdr->len == req->size ? hdr->s : NULL;
	if (maildir_deliver(&d, &name, step) < 0) {
		*err = errno;
		r = is_missing(*err) && (strcmp(*step, "open tmp/") == 0 ||
					 strcmp(*step, "open new/") == 0) ?
		    LF_NOMAILBOX : LF_SYSTEM;
	} else {
		log_info(req->id, "maildir=%s/%s/new/%s size=%llu",
			 req->domain, req->user, str_c(&name),
			 (unsigned long long)(prefix.len + req->size));
	}
	str_free(&prefix);
	str_free(&unique);
	str_free(&name);
	return r;
}

static enum local_fail deliver(struct local_agent *la,
			       const struct delivery_req *req, int fd,
			       int *err, const char **step)
{
	struct str hdr = STR_INIT(0);
	enum local_fail r;
	int mfd;

	if (!message_ok(fd, req))
		return LF_SHORT;
	*step = "open Maildir";
	mfd = maildir_open(la, req);
	if (mfd < 0) {
		*err = errno;
		return is_missing(*err) ? LF_NOMAILBOX : LF_SYSTEM;
	}
	*step = "read header";
	if (maildir_read_header(fd, req->offset, req->size, &hdr) < 0) {
		*err = errno;
		r = LF_SYSTEM;
	} else if (maildir_has_delivered_to(hdr.s ? hdr.s : "", hdr.len,
					    req->rcpt)) {
		r = LF_LOOP;
	} else {
		r = write_file(la, mfd, fd, req, &hdr, err, step);
	}
	close(mfd);
	str_free(&hdr);
	return r;
}

enum delivery_status local_deliver(struct local_agent *la,
				   const struct delivery_req *req, int fd,
				   struct str *reason)
{
	const char *step = "deliver";
	int err = 0;
	enum local_fail why = deliver(la, req, fd, &err, &step);

	return local_outcome(why, err, step, req, reason);
}
