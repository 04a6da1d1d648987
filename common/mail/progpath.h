/*
 * progpath - where postern's programs are
 *
 * Programs are found relative to the running executable, so the source
 * tree (bin/) and an installation (PREFIX/sbin + PREFIX/libexec/postern)
 * both work: $POSTERN_LIBEXEC if set, else DIR/../libexec/postern/NAME,
 * else DIR/NAME, where DIR holds /proc/self/exe.
 */
#ifndef POSTERN_PROGPATH_H
#define POSTERN_PROGPATH_H

struct str;

/* 0 and the path in out, or -1 if no executable NAME was found. */
int prog_path(const char *name, struct str *out);
/* The same for DIR/NAME only, whatever $POSTERN_LIBEXEC says (sendmail
 * looks for postern beside itself). */
int prog_path_beside_self(const char *name, struct str *out);

#endif
