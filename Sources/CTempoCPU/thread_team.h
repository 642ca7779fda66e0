// thread_team.h -- persistent worker threads that run one function on N threads at once and
// meet at a spinning barrier. A sequence op needs both guarantees: its threads run concurrently
// (a barrier per step would deadlock if two iterations shared a thread, which a work queue such
// as GCD's concurrentPerform allows), and a barrier costs well under a microsecond.
#ifndef TEMPO_THREAD_TEAM_H
#define TEMPO_THREAD_TEAM_H

typedef void (*tempo_team_function)(void *context, int thread, int threads);

/// Runs `function(context, i, n)` for i in 0..<n on n threads at once, the caller being thread 0,
/// and returns n. n is `threads`, or 1 when another caller holds the team (the function then runs
/// on the caller alone: always correct, never blocked).
int tempo_team_run(int threads, tempo_team_function function, void *context);

/// Waits until all `threads` threads of the running team function have arrived.
void tempo_team_barrier(int threads);

#endif
