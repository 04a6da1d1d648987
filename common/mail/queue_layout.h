/*
 * queue_layout - the directories under queue_dir, and paths into them
 *
 *   queue_dir/           root 0755 (the instance's spool)
 *     tmp/               files being written (only without O_TMPFILE)
 *     new/               complete messages, not yet seen by the queue
 *                        manager (postern-inject(8) links them here)
 *     active/            messages the queue manager is delivering
 *     deferred/          messages waiting for a retry
 *     hold/              messages put on hold by the administrator
 *     corrupt/           files that failed to read as queue files
 *     private/           root 0755: the local sockets of the services
 *     pid/               root 0700: the master's pid and status files
 *
 * The six queue subdirectories are owned by postern-queue:postern-queue,
 * mode 0700, when the caller is root; otherwise by the caller. They are
 * all on one filesystem, so messages move between them with rename(2) and
 * keep their inode (and so their id, queue_id.h). See postern-queue(5).
 */
#ifndef POSTERN_QUEUE_LAYOUT_H
#define POSTERN_QUEUE_LAYOUT_H

#include "mail/conf.h"
#include "util/str.h"

#define QUEUE_ACCOUNT "postern-queue"

/* "tmp", "new", "active", "deferred", "hold", "corrupt", NULL (the
 * directories of postern-queue(5)) */
extern const char *const queue_layout_subdirs[];

/* Create what is missing of the layout above and, as root, give the queue
 * subdirectories their owner and mode. Idempotent. A path that exists but
 * is not a directory (a symlink, say) is an error. 0, or -1 with errno and
 * *error_r (static text, valid until the next call). */
int queue_layout_ensure(const struct conf *c, const char **error_r);
/* out = queue_dir/subdir/id, with subdir one of queue_layout_subdirs and
 * id a valid queue id (queue_id_valid); -1 with errno EINVAL otherwise,
 * or EMSGSIZE past out's cap. */
int queue_layout_path(const struct conf *c, const char *subdir,
		      const char *id, struct str *out);

#endif
