/*
 * clock.h: the monotonic clock every layer measures durations and deadlines
 * with. CLOCK_MONOTONIC never jumps with the wall clock (NTP, an operator's
 * `date -s`), so a timeout measured on it is never shortened or stretched.
 * Wall-clock times (timestamps in files and logs) use time(2) instead.
 */
#ifndef PACER_CLOCK_H
#define PACER_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Milliseconds on CLOCK_MONOTONIC since an arbitrary start. */
long long pacer_now_ms(void);
/* The same in seconds, with the fraction (for durations printed as 1.234 s). */
double pacer_now_s(void);
/* The CLOCK_MONOTONIC time ms milliseconds from now (ms <= 0: now), for
 * pthread_cond_timedwait() on a condition from pacer_cond_init() and for
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...). */
struct timespec pacer_deadline_ms(long long ms);
/* Initialise cv to time its waits on CLOCK_MONOTONIC. Returns 0 or an errno. */
int pacer_cond_init(pthread_cond_t *cv);
/* Sleep ms milliseconds on CLOCK_MONOTONIC, resuming after signal handlers. */
void pacer_sleep_ms(long long ms);

#endif
