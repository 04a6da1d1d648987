/*
 * conf - postern's configuration: the keys of conf_keys.def, loaded,
 * validated and with derived defaults filled in
 *
 * The configuration file is found by conf_path(): -c FILE, else the
 * environment variable POSTERN_CONF, else SYSCONFDIR/postern.conf. Maps and
 * the default TLS pair live in the same directory as the file (etc_dir).
 */
#ifndef POSTERN_CONF_H
#define POSTERN_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "util/cfgfile.h"

struct str;

struct conf_list {
	char **v;
	size_t n;
};

struct conf_hostports {
	struct hostport *v;
	size_t n;
};

#define CONF_T_STRING    char *
#define CONF_T_PATH      char *
#define CONF_T_LIST      struct conf_list
#define CONF_T_HOSTPORTS struct conf_hostports
#define CONF_T_UINT      unsigned
#define CONF_T_SIZE      uint64_t
#define CONF_T_DURATION  unsigned
#define CONF_T_BOOL      int

struct conf {
#define KEY(name, type, def, desc) CONF_T_##type name;
#include "mail/conf_keys.def"
#undef KEY
	char *config_path;	/* absolute path of the file read */
	char *etc_dir;		/* its directory: maps, TLS pair */
};

/* The file to use: opt (from -c) if not NULL, else $POSTERN_CONF, else the
 * compiled-in default. */
const char *conf_path(const char *opt);

/* Load defaults, then the file; derive hostname, local_domains, tls_*.
 * c is overwritten (conf_free a loaded one first). A key set twice keeps
 * its last value. Each error is appended to errors as "file:line:
 * message\n" ("file: message\n" for errors of no one line, such as
 * retry_min > retry_max). Returns the number of errors; c then still
 * holds a usable configuration (defaults where lines were bad) and is
 * freed safely by conf_free. */
int conf_load(struct conf *c, const char *path, struct str *errors);
void conf_free(struct conf *c);

/* Is key a known key? */
int conf_key_known(const char *key);
/* The i-th key of conf_keys.def, NULL past the last (to list them all). */
const char *conf_key_name(size_t i);
/* A key's default and description from conf_keys.def; NULL if unknown. */
const char *conf_key_default(const char *key);
const char *conf_key_description(const char *key);
/* Check one value for key; 0 or -1 with a message appended to err. */
int conf_value_check(const char *key, const char *value, struct str *err);
/* The effective value of key, as text, into out (replacing it): lists
 * joined with ",", addresses as "*:25", "127.0.0.1:25", "[::1]:25",
 * durations in the largest exact unit ("1h", "90s"), sizes in bytes.
 * -1 for an unknown key. */
int conf_get_text(const struct conf *c, const char *key, struct str *out);
/* Edit the file in place: replace the last line setting key with
 * "key = value" (or append that line), keeping comments and order; the
 * whole new text is validated as conf_load would, and only then written
 * atomically with the file's mode (and owner, when root). A symlink is
 * followed. 0, or -1 with errors appended and the file unchanged. */
int conf_file_set(const char *path, const char *key, const char *value,
		  struct str *errors);

/* Paths of the instance: out = etc_dir/name, queue_dir/name. */
int conf_etc_path(const struct conf *c, const char *name, struct str *out);
int conf_queue_path(const struct conf *c, const char *name, struct str *out);

/* Is domain (case-insensitive) one of local_domains? */
int conf_domain_is_local(const struct conf *c, const char *domain);

#endif
