/*
 * local_deliver - one request: check the message descriptor, find the
 * Maildir (mailbox_path.h, maildir_open.h), refuse a Delivered-To: loop
 * (local_loop.h), write the file (maildir_write.h)
 *
 * Each byte of the message is read once: the header section (the whole
 * of a small message) for the loop check, then the rest by the writer,
 * which is handed the bytes already read.
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

#include "local_loop.h"
#include "mail/mailbox_path.h"
#include "mail/maildir_open.h"
#include "mail/maildir_write.h"
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

/* Open mail_root/DOMAIN/USER (maildir_open.h: no symbolic link followed
 * beneath mail_root). mail_root stays open for the process's life (a new
 * configuration starts new processes). -1 with errno and *step. */
static int maildir_at(struct local_agent *la, const struct delivery_req *req,
		      struct mailbox_path *mp, const char **step)
{
	const char *error;
	int fd;

	if (mailbox_path_from_parts(req->domain, req->user, mp, &error) < 0) {
		*step = error;
		errno = EINVAL;
		return -1;
	}
	*step = "open mail_root";
	if (la->root_fd < 0)
		la->root_fd = open(la->conf->mail_root, O_PATH | O_DIRECTORY |
				   O_CLOEXEC);
	if (la->root_fd < 0)
		return -1;
	if (maildir_open_at(la->root_fd, mp, &fd, step) < 0)
		return -1;
	return fd;
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

/* The Maildir a request is delivered to. */
struct target {
	int fd;
	struct mailbox_path mp;
};

/* Write the file; the failure kind and step on error. */
static enum local_fail write_file(struct local_agent *la,
				  const struct target *t, int fd,
				  const struct delivery_req *req,
				  const struct str *hdr, int *err,
				  const char **step)
{
	struct str prefix = STR_INIT(0), name = STR_INIT(0);
	struct str unique = STR_INIT(0);
	struct maildir_delivery d;
	enum local_fail r = LF_NONE;

	prefix_make(req, &prefix);
	memset(&d, 0, sizeof(d));
	d.unique = unique_make(la, req, &unique) == 0 ? str_c(&unique) : NULL;
	d.maildir_fd = t->fd;
	d.host = str_c(&la->host);
	d.counter = &la->counter;
	d.prefix = prefix.s;
	d.prefix_len = prefix.len;
	d.src_fd = fd;
	d.offset = req->offset;
	d.size = req->size;
	/* what the loop check read is not read again */
	d.head = hdr->s;
	d.head_len = hdr->len;
	if (maildir_deliver(&d, &name, step) < 0) {
		*err = errno;
		r = is_missing(*err) && (strcmp(*step, "open tmp/") == 0 ||
					 strcmp(*step, "open new/") == 0) ?
		    LF_NOMAILBOX : LF_SYSTEM;
	} else {
		log_info(req->id, "maildir=%s/%s/new/%s size=%llu",
			 t->mp.domain, t->mp.user, str_c(&name),
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
	struct target t;
	enum local_fail r;

	if (!message_ok(fd, req))
		return LF_SHORT;
	t.fd = maildir_at(la, req, &t.mp, step);
	if (t.fd < 0) {
		*err = errno;
		return is_missing(*err) ? LF_NOMAILBOX : LF_SYSTEM;
	}
	*step = "read header";
	if (local_loop_read_header(fd, req->offset, req->size, &hdr) < 0) {
		*err = errno;
		r = LF_SYSTEM;
	} else if (local_loop_has_delivered_to(hdr.s ? hdr.s : "", hdr.len,
					       req->rcpt)) {
		r = LF_LOOP;
	} else {
		r = write_file(la, &t, fd, req, &hdr, err, step);
	}
	close(t.fd);
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
