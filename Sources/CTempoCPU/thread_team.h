// thread_team.h -- persistent worker threads that run one function on N threads at once and
// meet at a barrier (which spins, then yields, then sleeps). A sequence op needs both
// guarantees: its threads run concurrently (a barrier per step would deadlock if two iterations
// shared a thread, which a work queue such as GCD's concurrentPerform allows), and a barrier
// between threads that are both running costs well under a microsecond.
#ifndef TEMPO_THREAD_TEAM_H
#define TEMPO_THREAD_TEAM_H

/// The most threads a team runs at once.
enum { TEMPO_MAX_TEAM = 64 };

typedef void (*tempo_team_function)(void *context, int thread, int threads);

/// Runs `function(context, i, n)` for i in 0..<n on n threads at once, the caller being thread 0,
/// and returns n. n is `threads`, or 1 when another caller holds the team (the function then runs
/// on the caller alone: always correct, never blocked).
int tempo_team_run(int threads, tempo_team_function function, void *context);

typedef void (*tempo_item_function)(void *context, int phase, int item);

/// Runs `function(context, p, i)` once for each phase p in 0..<phases and item i in
/// 0..<items[p], phase after phase (every item of phase p returns before any of p + 1 starts), on
/// the caller and on whichever of up to `threads - 1` workers are ready for it: the caller takes a
/// phase's items from the front, workers from the back, and the caller waits only for items a
/// worker has taken, never for a worker that has not started. For short jobs (a streaming step:
/// microseconds per phase) on a machine whose other cores may be busy, where `tempo_team_run`
/// would wait for a descheduled worker; the phases let a chain of dependent steps (a TCN's
/// convolutions) run as one job, one hand-off for all of them. In the usual case each thread
/// takes the same items from call to call, so their data stays in its cache. Returns the number
/// of items the caller ran. Like `tempo_team_run`, it runs everything on the caller when another
/// caller holds the team; also beyond 4095 phases or 65535 items in a phase.
int tempo_team_share(int threads, int phases, const int *items, tempo_item_function function, void *context);

/// Waits until all `threads` threads of the running team function have arrived.
void tempo_team_barrier(int threads);

/// The barrier in two halves, so that a thread can do work that needs no one else while it
/// waits: `tempo_team_arrive` marks this thread arrived and returns a ticket;
/// `tempo_team_passed(ticket)` is nonzero once every thread has arrived (at once for one
/// thread); `tempo_team_wait(ticket)` blocks until then. Every arrive needs a wait or a
/// nonzero passed before the thread arrives again.
unsigned tempo_team_arrive(int threads);
int tempo_team_passed(unsigned ticket);
void tempo_team_wait(unsigned ticket);

#endif
