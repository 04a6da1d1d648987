/*
 * conf_limit - configured limits as a daemon uses them
 *
 * A count limit of 0 would refuse everything, and a timeout of 0 would
 * end every session at once: both are taken as 1. Timeouts longer than a
 * day are taken as a day, so that their milliseconds fit an int (poll()).
 */
#ifndef POSTERN_CONF_LIMIT_H
#define POSTERN_CONF_LIMIT_H

#define CONF_LIMIT_TIMEOUT_MAX 86400	/* seconds */

/* The count limit v, at least 1. */
unsigned conf_limit_count(unsigned v);
/* The timeout of seconds, between 1 and CONF_LIMIT_TIMEOUT_MAX, in
 * milliseconds. */
int conf_limit_timeout_ms(unsigned seconds);

#endif
