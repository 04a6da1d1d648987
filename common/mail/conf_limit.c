/*
 * conf_limit - configured limits as a daemon uses them; see conf_limit.h
 */
#include "mail/conf_limit.h"

unsigned conf_limit_count(unsigned v)
{
	return v == 0 ? 1 : v;
}

int conf_limit_timeout_ms(unsigned seconds)
{
	if (seconds > CONF_LIMIT_TIMEOUT_MAX)
		seconds = CONF_LIMIT_TIMEOUT_MAX;
	return (int)conf_limit_count(seconds) * 1000;
}
