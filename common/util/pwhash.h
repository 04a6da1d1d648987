/*
 * pwhash - password hashes with libcrypt, Dovecot-compatible prefixes
 *
 * New hashes are yescrypt, written "{CRYPT}$y$..." so that a Dovecot
 * passwd-file can use them unchanged. Verification accepts the schemes a
 * Dovecot passwd-file may hold: {CRYPT} {MD5-CRYPT} {SHA256-CRYPT}
 * {SHA512-CRYPT} {BLF-CRYPT} {SSHA} {SSHA256} {SSHA512} {SHA} {SHA256}
 * {SHA512} {PLAIN} {CLEARTEXT}, a bare crypt(3) string ("$6$...") as
 * {CRYPT}, and hex digests ("{SHA256.HEX}", "{SSHA512.HEX}"; an unsalted
 * digest of exactly the hex length is read as hex too). Comparison is
 * constant-time. libcrypt takes passwords shorter than
 * CRYPT_MAX_PASSPHRASE_SIZE (512) bytes: pwhash_create refuses longer ones
 * and the crypt schemes never match them.
 */
#ifndef POSTERN_PWHASH_H
#define POSTERN_PWHASH_H

struct str;

/* Hash a new password into hash_r ("{CRYPT}$y$..."). 0 or -1. */
int pwhash_create(const char *password, struct str *hash_r,
		  const char **error_r);
/* 1 the password matches, 0 it does not, -1 the stored value is malformed
 * or its scheme unknown (reason in *error_r). */
int pwhash_verify(const char *password, const char *stored,
		  const char **error_r);
/* The scheme of a stored value ("SHA512-CRYPT"), or NULL if malformed.
 * Points into a static table. */
const char *pwhash_scheme(const char *stored);
/* Read now what verifying would otherwise read from disk at the first
 * digest (OpenSSL's configuration file): a process calls it before it is
 * confined (sandbox.h), where that file would be out of reach. 0, or -1
 * if OpenSSL could not be initialised. */
int pwhash_init(void);

#endif
