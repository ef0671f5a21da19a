/*
 * crash.h: named crash points, compiled into test builds only.
 *
 * A crash point marks a place where a real crash (power loss, SIGKILL, OOM
 * kill) would leave pacer's durable state half-way through an action:
 * after the backup, after the journal write, after the request, during the
 * wait, during a rollback, while writing the owned set. The crash tests
 * (tests/cli/test_crash.c) run pacer with PACER_CRASH_AT=<name>[:<n>], let it
 * die there with SIGKILL, and check that the next run finishes or undoes
 * what the killed one started.
 *
 * In a build without PACER_CRASH_POINTS (every build but the tests') the
 * macro expands to nothing, and crash_init() accepts nothing.
 */
#ifndef PACER_CRASH_H
#define PACER_CRASH_H

/*
 * Arm the crash point named by spec ("name" or "name:n", n >= 1: crash at
 * the n-th time it is reached; NULL or "" disarms). Called once by cmd/
 * with the environment's PACER_CRASH_AT before any work. Returns 0, or -1
 * when spec is malformed or crash points are not compiled in (the caller
 * says so and exits: a crash test that never crashes proves nothing).
 */
int crash_init(const char *spec);

/*
 * Reached a crash point: when it is the armed one (and its n-th hit), write
 * "pacer: crash point <name> reached" to stderr and die with SIGKILL.
 * Thread-safe.
 */
void crash__point(const char *name);

#ifdef PACER_CRASH_POINTS
#define CRASH_POINT(name) crash__point(name)
#else
#define CRASH_POINT(name) ((void)0)
#endif

#endif
