/*
 * retry - the backoff schedule and queue_lifetime (see retry.h)
 */
#include "retry.h"

time_t retry_delay(time_t arrival, time_t now, unsigned retry_min,
		   unsigned retry_max)
{
	time_t age = now > arrival ? now - arrival : 0;

	if (retry_min == 0)
		retry_min = 1;
	if (retry_max < retry_min)
		retry_max = retry_min;
	if (age < (time_t)retry_min)
		return retry_min;
	if (age > (time_t)retry_max)
		return retry_max;
	return age;
}

time_t retry_next(time_t arrival, time_t now, unsigned retry_min,
		  unsigned retry_max)
{
	return now + retry_delay(arrival, now, retry_min, retry_max);
}

int retry_expired(time_t arrival, time_t now, unsigned lifetime)
{
	return now >= arrival && now - arrival >= (time_t)lifetime;
}
