/*
 * imap_session - one logged-in IMAP session: its state and the helpers
 *                every command uses
 *
 * STATES  (RFC 9051 3) authenticated, selected, logout. The not
 *         authenticated state is postern-imap-login's.
 * OUTPUT  Untagged responses are written as the command produces them;
 *         the io is flushed when no further input is pending (pipelined
 *         commands are answered in one write).
 * UPDATES After each command, and in IDLE when the Maildir changes, the
 *         session syncs the selected folder (imap_session_updates()) and
 *         tells the client: FETCH FLAGS of messages changed by others,
 *         EXPUNGE (or VANISHED under QRESYNC) of messages gone, EXISTS
 *         of new ones. EXPUNGE is never sent while the command is FETCH,
 *         STORE or SEARCH (RFC 9051 7.5.1): sequence numbers stay as the
 *         client knows them until a command that allows it.
 */
#ifndef POSTERN_IMAP_SESSION_H
#define POSTERN_IMAP_SESSION_H

#include <stdint.h>

#include "imap.h"
#include "mail/imap_index.h"
#include "imap_parse.h"
#include "imap_seqset.h"
#include "util/io.h"
#include "util/str.h"

/* ENABLEd extensions (RFC 5161). */
#define IMAP_EN_REV2		0x01u	/* IMAP4rev2 */
#define IMAP_EN_CONDSTORE	0x02u	/* also by any CONDSTORE-using cmd */
#define IMAP_EN_QRESYNC		0x04u
#define IMAP_EN_UTF8		0x08u	/* UTF8=ACCEPT (or rev2) */

#define IMAP_SEARCHRES_MAX 1000000u

struct imap_session {
	struct imap *im;
	const struct login_user *u;
	struct io io;
	struct imap_reader rd;
	char id[40];			/* log id: the token's first digits */
	int maildir_fd;			/* the user's Maildir */
	int index_root_fd;		/* imap_index_root/DOMAIN/USER, or -1:
					 * the index lives in the Maildir */
	unsigned bad;			/* BAD answers, imap_max_bad_commands */
	unsigned enabled;		/* IMAP_EN_ */
	int logout;
	/* the command being run: 1 if the selected folder's updates are
	 * still owed before its tagged reply, 2 if EXPUNGE may be among
	 * them (imap_reply_tagged() sends them) */
	int cmd_updates;
	/* the selected folder (sel NULL: authenticated state) */
	struct imap_folder *sel;
	struct str sel_name;		/* its UTF-8 name */
	int sel_readonly;		/* EXAMINE */
	uint32_t exists;		/* EXISTS the client was told */
	uint32_t recent;		/* RECENT the client was told */
	uint32_t keywords_told;		/* the keyword letters FLAGS named */
	uint64_t announced_modseq;	/* HIGHESTMODSEQ the client knows */
	/* SEARCHRES: the last SEARCH ... RETURN (SAVE) result, as UIDs */
	uint32_t *saved;
	uint32_t nsaved;
	int saved_valid;
	/* counters for the end-of-session log line */
	unsigned long fetched, stored, appended, expunged;
};

/* A command handler: the tagged reply is its to send. */
typedef void imap_cmd_fn(struct imap_session *s, struct imap_command *c);

/* Reply helpers. Each writes one line with CRLF. The tagged OK or NO of
 * a command is preceded by the selected folder's updates (UPDATES), so
 * the client has them before the command completes. */
void imap_reply_tagged(struct imap_session *s, const struct imap_command *c,
		       const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void imap_reply_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* BAD: counted against imap_max_bad_commands. */
void imap_reply_bad(struct imap_session *s, const struct imap_command *c,
		    const char *text);
/* A mailbox name on the wire (mUTF-7, or UTF-8 once enabled), as an
 * astring, appended to out. */
void imap_write_mailbox(struct imap_session *s, struct str *out,
			const char *name);
/* A name (or LIST pattern) as the client sent it, appended to out in
 * UTF-8 (mUTF-7 decoded unless UTF-8 is enabled; valid 8-bit UTF-8 is
 * taken as it is). 0, or -1 if it is neither. */
int imap_wire_name(struct imap_session *s, const char *p, size_t n,
		   struct str *out);
/* A mailbox name from the client's argument into out (UTF-8). 0, or -1
 * after answering BAD/NO. */
int imap_arg_mailbox(struct imap_session *s, const struct imap_command *c,
		     const struct imap_arg *a, struct str *out);

/* The directory of folder dirname's index for imap_folder_open():
 * -1 when the index lives in the folder's own directory, else a
 * descriptor of imap_index_root/DOMAIN/USER/NAME (made if missing; NAME
 * is dirname, "INBOX" for ""), which the caller closes. -2 if it cannot
 * be opened (logged): answer NO [SERVERBUG], never fall back to the
 * Maildir, where other UIDs would be given. */
int imap_session_index_dir(struct imap_session *s, const char *dirname);
/* After DELETE or RENAME of dirname: drop its index (and its children's)
 * under imap_index_root; nothing when the index lives in the Maildir
 * (it went with the directory). */
void imap_session_index_forget(struct imap_session *s, const char *dirname);

/* Send the selected folder's pending updates (UPDATES above);
 * expunges_ok says whether EXPUNGE/VANISHED may be sent now. */
void imap_session_updates(struct imap_session *s, int expunges_ok);
/* Leave the selected folder (CLOSE expunges first; UNSELECT does not). */
void imap_session_unselect(struct imap_session *s);
/* 1 if CONDSTORE has been enabled (ENABLE, or a CONDSTORE parameter). */
int imap_session_condstore(const struct imap_session *s);
/* Enable CONDSTORE on first use (RFC 7162 3.1: "* OK [HIGHESTMODSEQ n]"
 * when a mailbox is selected). */
void imap_session_condstore_on(struct imap_session *s);

/* The messages a command names: a sequence set (seq numbers or UIDs) or
 * "$" (the saved search result, RFC 5182), resolved against the
 * selected folder. */
struct imap_msgset {
	struct imap_seqset set;
	int by_uid;		/* set holds UIDs */
};
/* Parse a's set for command c ("UID ..." if uid). 0, or -1 after a BAD
 * reply. Sequence numbers past the client's EXISTS are an error (RFC 9051
 * 6.4.4: BAD); UIDs that do not exist are simply not there. */
int imap_msgset_parse(struct imap_session *s, const struct imap_command *c,
		      const struct imap_arg *a, int uid,
		      struct imap_msgset *ms);
/* 1 if message i (0-based) of the selected folder is in ms. */
int imap_msgset_has(const struct imap_session *s,
		    const struct imap_msgset *ms, uint32_t i);
void imap_msgset_free(struct imap_msgset *ms);

/* "* N FETCH ([UID u ]FLAGS (...)[ MODSEQ (m)])" of message i (MODSEQ
 * once CONDSTORE is on): STORE's answer and other sessions' changes. */
void imap_write_fetch_flags(struct imap_session *s, uint32_t i, int with_uid);
/* FLAGS and PERMANENTFLAGS of the selected folder (SELECT, and whenever
 * a keyword appears: RFC 9051 7.3.5 wants every flag in use named). */
void imap_session_flags(struct imap_session *s);
/* ... sent again if a keyword appeared since they were. */
void imap_session_keywords(struct imap_session *s);

/* The flags list "(\Seen \Answered $Keyword)" of message i into out. */
void imap_write_flags(struct imap_session *s, struct str *out,
		      const struct imap_msg *m);

/* imap_hibernate.c: IDLE closes the selected folder and keeps what it
 * needs to tell the client what changed (the UIDs it knows and the
 * recent ones, as ranges; the highest MODSEQ it saw). */
struct imap_hibernation {
	int active;
	struct imap_seqset known, recent;
	uint32_t exists;
	uint64_t modseq;
	struct str dir;			/* the folder's directory name */
};
/* Close the selected folder (s->sel becomes NULL; nothing if none). */
void imap_hibernate(struct imap_session *s, struct imap_hibernation *h);
/* Open it again and send what changed (EXPUNGE or VANISHED, FETCH FLAGS,
 * EXISTS). 0, or -1 when it cannot be opened (BYE sent, s->logout). */
int imap_wake(struct imap_session *s, struct imap_hibernation *h);
/* What a session that ends in IDLE still holds of h. */
void imap_hibernation_free(struct imap_hibernation *h);

/* The command tables, by state (imap_cmd_*.c). */
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout,
	imap_cmd_enable, imap_cmd_id, imap_cmd_namespace, imap_cmd_idle,
	imap_cmd_select, imap_cmd_create, imap_cmd_delete, imap_cmd_rename,
	imap_cmd_subscribe, imap_cmd_unsubscribe, imap_cmd_list,
	imap_cmd_lsub, imap_cmd_status, imap_cmd_append, imap_cmd_check,
	imap_cmd_close, imap_cmd_unselect, imap_cmd_expunge,
	imap_cmd_fetch, imap_cmd_store, imap_cmd_copy, imap_cmd_move,
	imap_cmd_search, imap_cmd_sort, imap_cmd_thread;

/* The capability list after login (no leading or trailing space). */
void imap_capabilities(const struct imap_session *s, struct str *out);

#endif
