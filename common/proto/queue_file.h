/*
 * queue_file - the on-disk format of one queued message
 *
 * WHO     the injector writes queue files (queue_writer_*); the queue
 *         manager reads them (queue_file_read) and records each
 *         recipient's outcome in place (queue_file_set_state); the queue
 *         tools read them for "postern queue list". See postern-queue(5).
 *
 * RECORDS A queue file is a sequence of binary records, never text lines:
 *
 *           type    1 byte, one of the letters below
 *           length  4 bytes, big-endian, the number of data bytes
 *           data    length bytes
 *
 *         in this order (text data is never NUL-terminated on disk):
 *
 *           V        "POSTERN" + format version '1'            required, first
 *           T        arrival: 8-byte BE seconds, 4-byte BE ns  required once
 *           I H A P  client address, HELO name, SASL login,
 *                    protocol (ESMTP, ESMTPSA, local, ...)     optional, once
 *           E        4-byte BE flags (QUEUE_FLAG_*)            optional, once
 *           J        DSN envelope id (ENVID, RFC 3461 xtext)   optional, once
 *           S        sender, empty for the null sender <>      required once
 *           R        1 state byte + recipient address          one or more
 *           O        original recipient of the R before it     optional
 *                    (the DSN ORCPT as given: "type;xtext")
 *           N        1 byte: DSN NOTIFY of that R              optional
 *                    (QUEUE_NOTIFY_*), after its O if any
 *           M        the message itself; length = its size     required
 *           Z        END: 8-byte BE message size again         required
 *           D        a delivered target (TARGETS below)        after Z only
 *
 *         T, I, H, A, P, E, J and S may come in any order, each at most
 *         once, before the first R; O and N follow their R directly (R O
 *         N, R O, R N), each at most once. Nothing but D records may
 *         follow Z. Text records are capped
 *         at QUEUE_TEXT_MAX bytes, M at 4 GiB - 1, and every byte below 0x20
 *         and 0x7f (so CR, LF, NUL, TAB, ESC) is refused in every text
 *         field by the writer and again by the reader: a field can never
 *         smuggle in a record or a log line (OpenSMTPD CVE-2020-8794, Exim
 *         CVE-2020-28021). A file that breaks any of these rules - no V,
 *         a wrong magic or version, an unknown type, an oversized record,
 *         missing or duplicate fields, a truncated record, no Z, bytes
 *         after Z, a Z that disagrees with M - is corrupt: queue_file_read
 *         fails with errno EBADMSG and says where, and the queue manager
 *         moves the file to corrupt/. Any other errno is an I/O problem
 *         (EIO, ENOMEM, ...) and means "try again later", not "corrupt".
 *
 * DSN     (RFC 3461) The J, N records and the RET flags of E were added
 *         to version '1' as optional records: a file written before them
 *         has none and reads as it did (no NOTIFY: the default, failure
 *         and delay notices; no RET: the whole message within
 *         bounce_size_limit), so the version stays '1'. A reader older
 *         than them refuses a file that has them (unknown record type),
 *         which is safe: the file goes to corrupt/, never half read. The
 *         format checks what it can without the SMTP grammar: J is 1 to
 *         QUEUE_ENVID_MAX bytes from 0x21 to 0x7e (the xtext alphabet);
 *         N is NEVER alone or a non-empty set of SUCCESS, FAILURE and
 *         DELAY; RET_FULL and RET_HDRS are never both set. The SMTP
 *         syntax itself (xtext escapes, the ORCPT type) is checked where
 *         the values enter, by mail/dsn_param.h.
 *
 * WRITING The message size is not known until DATA has ended, so the writer
 *         emits the envelope and an M header with length 0, streams the
 *         message, appends Z with the real size and only then overwrites
 *         the M length in place (pwrite). The caller fsyncs the file and
 *         renames it from tmp/ to new/; until then nobody reads it, so the
 *         order of those writes does not matter for a crash.
 *
 * RECIPIENT STATE  Each R record starts with one state byte: Q queued (not
 *         yet done), D delivered, F failed (a bounce was queued), X expired
 *         (queue_lifetime passed; a bounce was queued). A recipient that
 *         was deferred stays Q. The queue manager records an outcome by
 *         overwriting that one byte with pwrite(2) and then fdatasync(2)
 *         (queue_file_set_state; many outcomes may share one sync), so
 *         recording an outcome never rewrites a message of up to 50 MB,
 *         and the file's size and metadata never change.
 *
 *         Why one byte in place is atomic enough: a disk writes a sector
 *         (512 bytes or 4 KiB) all or nothing, a byte never straddles two
 *         sectors, and every other byte of that sector is rewritten with
 *         the value it already had. After a power cut the byte therefore
 *         holds the old state or the new one, and either leaves a valid
 *         file. Copy-on-write filesystems (btrfs, ZFS) write the block
 *         elsewhere and switch atomically, which is as good. If the crash
 *         comes after a delivery but before the sync, the recipient is
 *         still Q and is delivered again: a duplicate, never a loss
 *         (DESIGN.md, step 6).
 *
 *         The alternative, a companion state file per message, was
 *         rejected: it doubles the creates, renames, unlinks and directory
 *         syncs on the hot path, and opens windows in which the two files
 *         disagree or one of them is missing.
 *
 *         The state bytes cover the recipients the injector wrote. A
 *         recipient that expands at delivery time (an alias with several
 *         targets) has one state for the whole expansion; its targets
 *         delivered so far are D records after END (TARGETS below).
 *
 * READING queue_file_read validates the whole envelope, skips the message
 *         without reading it, and leaves message_offset and message_size
 *         in the queue_env: a delivery agent is handed a descriptor
 *         positioned at message_offset and reads exactly message_size
 *         bytes (the Z record follows them). The reader uses pread(2) only,
 *         so it never moves the descriptor's offset.
 */
#ifndef POSTERN_QUEUE_FILE_H
#define POSTERN_QUEUE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "util/str.h"

#define QUEUE_FILE_MAGIC "POSTERN"	/* 7 bytes, then the version */
#define QUEUE_FILE_VERSION '1'

enum queue_record_type {
	QREC_VERSION = 'V',
	QREC_TIME = 'T',
	QREC_CLIENT_ADDR = 'I',
	QREC_HELO = 'H',
	QREC_AUTH_USER = 'A',
	QREC_PROTOCOL = 'P',
	QREC_FLAGS = 'E',
	QREC_ENVID = 'J',
	QREC_SENDER = 'S',
	QREC_RCPT = 'R',
	QREC_ORIG_RCPT = 'O',
	QREC_NOTIFY = 'N',
	QREC_MESSAGE = 'M',
	QREC_END = 'Z',
	QREC_TARGET_DONE = 'D',		/* after END only (TARGETS below) */
};

/* type byte + 4-byte length */
#define QUEUE_RECORD_HEADER 5
/* Longest text field (address, HELO name, ...) in bytes. */
#define QUEUE_TEXT_MAX 1024
/* Most recipients in one file (bounds the reader's memory). */
#define QUEUE_RCPT_MAX 100000
/* Largest message: the M length is 32 bits. */
#define QUEUE_MESSAGE_MAX UINT32_MAX

/* E record flags */
#define QUEUE_FLAG_8BITMIME 0x1u	/* BODY=8BITMIME */
#define QUEUE_FLAG_SMTPUTF8 0x2u	/* SMTPUTF8 */
#define QUEUE_FLAG_RET_FULL 0x4u	/* DSN RET=FULL */
#define QUEUE_FLAG_RET_HDRS 0x8u	/* DSN RET=HDRS (never with RET_FULL) */
#define QUEUE_FLAG_ALL (QUEUE_FLAG_8BITMIME | QUEUE_FLAG_SMTPUTF8 | \
			QUEUE_FLAG_RET_FULL | QUEUE_FLAG_RET_HDRS)
/* Flags the format accepts: known bits, not both RET ones. 1 or 0. */
int queue_flags_ok(uint32_t flags);

/* Longest J record (RFC 3461 4.4: ENVID is at most 100 xtext bytes). */
#define QUEUE_ENVID_MAX 100
/* An ENVID the format accepts: 1 to QUEUE_ENVID_MAX bytes, each from
 * 0x21 to 0x7e. 1 or 0. */
int queue_envid_ok(const char *s, size_t len);

/* N record values (RFC 3461 4.1 NOTIFY; mail/dsn_param.h uses the same) */
#define QUEUE_NOTIFY_NEVER   0x01u
#define QUEUE_NOTIFY_SUCCESS 0x02u
#define QUEUE_NOTIFY_FAILURE 0x04u
#define QUEUE_NOTIFY_DELAY   0x08u
/* NEVER alone, or a non-empty set of the other three. 1 or 0. */
int queue_notify_ok(unsigned notify);

enum queue_rcpt_state {
	QUEUE_RCPT_QUEUED = 'Q',
	QUEUE_RCPT_DELIVERED = 'D',
	QUEUE_RCPT_FAILED = 'F',
	QUEUE_RCPT_EXPIRED = 'X',
};

struct queue_rcpt {
	char *addr;		/* never empty */
	char *orig;		/* original recipient (O record), or NULL */
	unsigned char notify;	/* QUEUE_NOTIFY_* (N record), 0: not given */
	char state;		/* enum queue_rcpt_state */
	off_t state_offset;	/* where the state byte is (set by read) */
};

/*
 * One message's envelope. Every string is owned by the queue_env and freed
 * by queue_env_free; set them with xstrdup(). Optional fields are NULL when
 * absent. The writer ignores state_offset, message_offset and
 * message_size; the reader sets them.
 */
struct queue_env {
	struct timespec arrival;
	char *client_addr;
	char *helo;
	char *auth_user;
	char *protocol;
	uint32_t flags;		/* QUEUE_FLAG_* */
	char *envid;		/* DSN ENVID (J record), or NULL */
	char *sender;		/* "" for the null sender; NULL only unset */
	struct queue_rcpt *rcpts;
	size_t rcpt_count;
	size_t rcpt_alloc;
	off_t message_offset;	/* first byte of the message */
	off_t message_size;	/* its length */
	char error[192];	/* why the last read failed */
};

void queue_env_init(struct queue_env *env);
void queue_env_free(struct queue_env *env);
/* Append a recipient in state Q; orig may be NULL. Returned so that the
 * caller may set its notify. */
struct queue_rcpt *queue_env_add_rcpt(struct queue_env *env,
				      const char *addr, const char *orig);
/* Recipients still in state Q: the message stays queued while this > 0. */
size_t queue_env_pending(const struct queue_env *env);
/* "queued", "delivered", "failed", "expired", or NULL for a bad state. */
const char *queue_rcpt_state_name(char state);

/*
 * Read and validate the queue file open on fd (from offset 0, with pread)
 * into env, which must be initialised and is emptied first. On -1, errno
 * is EBADMSG if the file is corrupt, anything else for an I/O error, and
 * *error_r says what and at which offset (valid until env is freed or
 * read into again).
 */
int queue_file_read(int fd, struct queue_env *env, const char **error_r);

/*
 * The same validation of the whole file, keeping only the first window
 * of recipients (at most max_n of them, and no further one once max_bytes
 * of R and O data are kept; max_n 0 keeps none): env gets the head fields,
 * those recipients and the message's place, scan the counts and where
 * the recipients are. The queue manager reads the others afterwards in
 * windows (queue_file_read_rcpts from window_end), so its memory does not
 * depend on how many recipients a file holds, and a small file is read in
 * one pass.
 */
struct queue_scan {
	size_t rcpts;		/* R records */
	size_t pending;		/* ... in state Q */
	off_t first_rcpt;	/* offset of the first R record */
	off_t message_rec;	/* offset of the M record (recipients end) */
	off_t window_end;	/* the first R not kept (or message_rec) */
	off_t trailer;		/* after the END record: target records */
	off_t trailer_end;	/* after the last whole target record */
	off_t size;		/* the file's size */
};

int queue_file_scan(int fd, struct queue_env *env, struct queue_scan *scan,
		    size_t max_n, size_t max_bytes, const char **error_r);

/*
 * Read the recipients whose records start at off (the first_rcpt of a
 * scan, or the *next_r of the previous window) into env, replacing the
 * recipients it had (its head is left alone): at most max_n of them, and
 * no further one once max_bytes of R and O data have been read (at least
 * one is always read). *next_r is where the next window starts; it is
 * scan.message_rec when none is left. Errors as for queue_file_read
 * (env's recipients are then empty).
 */
int queue_file_read_rcpts(int fd, struct queue_env *env, off_t off,
			  size_t max_n, size_t max_bytes, off_t *next_r,
			  const char **error_r);
/* Free env's recipients only. */
void queue_env_clear_rcpts(struct queue_env *env);

/*
 * TARGETS  One recipient may expand, at delivery time, into several
 *         targets (an alias: a local mailbox and a remote forward). Its
 *         state byte can say D only when every target is done; until
 *         then the queue manager records each target delivered as a D
 *         record after the END record (the trailer), so that a restart
 *         does not deliver to it again:
 *
 *           D   4-byte BE index of the recipient (its R record, from 0)
 *               + the target's address (1 to QUEUE_TEXT_MAX bytes, no
 *               control character)
 *
 *         The trailer is appended with pwrite(2) and synced with
 *         fdatasync(2) (which makes the new size durable too); nothing
 *         before it is ever rewritten. A crash during an append leaves a
 *         prefix of a D record (or, after a power cut, zeros): the reader
 *         ignores such a tail, and the queue manager truncates it away
 *         before it appends again, so a torn append costs at most the
 *         repeat of the delivery it was recording. Anything else after
 *         END (another record type, a D record for a recipient the file
 *         does not have, a control character) is corrupt, as before.
 */
/* The targets recorded for recipient rcpt_index, from the trailer at
 * start (a scan's trailer; rcpts: its number of recipients): appended
 * to out. 0, or -1 (EBADMSG with *error_r, or the read error). */
struct queue_targets {
	char **v;
	size_t n;
};

int queue_file_targets(int fd, off_t start, size_t rcpts, size_t rcpt_index,
		       struct queue_targets *out, const char **error_r);
int queue_targets_has(const struct queue_targets *t, const char *addr);
void queue_targets_free(struct queue_targets *t);
/* Append a D record at *end_io (and advance it); the caller syncs. -1
 * with errno (EINVAL for an address the format refuses). */
int queue_file_add_target(int fd, off_t *end_io, size_t rcpt_index,
			  const char *addr);

/*
 * Overwrite recipient rcpt_index's state byte in place and update env.
 * The caller makes it durable with fdatasync(fd) before it acts on it
 * (removes the file, logs the outcome as final). -1 with errno: EINVAL
 * for a bad index or state, or the pwrite error.
 */
int queue_file_set_state(int fd, struct queue_env *env, size_t rcpt_index,
			 char state);

/*
 * Writing a queue file into an empty descriptor:
 *
 *   struct queue_writer w;
 *   if (queue_writer_begin(&w, fd, &env, &error) < 0 ||
 *       queue_writer_body(&w, data, n, &error) < 0 ...  (as often as needed)
 *       queue_writer_end(&w, &error) < 0)
 *           fail: 4xx, unlink tmp file
 *   queue_writer_free(&w);
 *   fsync(fd), rename tmp/ID -> new/ID, fsync new/
 *
 * or, when the recipients arrive one by one and should not be held in
 * memory (the injector), queue_writer_head() with an envelope whose
 * recipients are ignored, then queue_writer_rcpt() for each recipient,
 * then queue_writer_body() and queue_writer_end() as above (the first
 * body byte, or the end, closes the recipient list; none is EINVAL).
 *
 * Every call after a failure fails again with the same error; the writer
 * never leaves a file that reads as valid unless queue_writer_end
 * succeeded. Errors: EINVAL for an envelope the format refuses (a control
 * character in a field, an empty recipient, no recipient, ...), EFBIG for
 * a message over QUEUE_MESSAGE_MAX, or the write error.
 */
struct queue_writer {
	int fd;
	int failed;		/* sticky: errno of the first failure */
	size_t rcpt_count;	/* R records written */
	int in_message;		/* the M header is written */
	off_t pos;		/* file offset of the next byte to write */
	off_t message_len_offset; /* where the M length goes */
	uint64_t message_size;	/* body bytes so far */
	struct str buf;		/* output not yet written */
	char error[160];
};

int queue_writer_begin(struct queue_writer *w, int fd,
		       const struct queue_env *env, const char **error_r);
int queue_writer_head(struct queue_writer *w, int fd,
		      const struct queue_env *env, const char **error_r);
/* orig may be NULL; notify 0 when NOTIFY was not given. */
int queue_writer_rcpt(struct queue_writer *w, const char *addr,
		      const char *orig, unsigned notify,
		      const char **error_r);
int queue_writer_body(struct queue_writer *w, const void *data, size_t len,
		      const char **error_r);
int queue_writer_end(struct queue_writer *w, const char **error_r);
void queue_writer_free(struct queue_writer *w);

#endif
