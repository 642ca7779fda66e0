// thread_team.c -- see thread_team.h.
#include "thread_team.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

enum { MAX_WORKERS = TEMPO_MAX_TEAM - 1 };
// Pause instructions a waiting thread spins before it yields or sleeps: about 0.1-0.3 ms on
// current x86 (a pause is 40-140 cycles), long enough to bridge back-to-back calls and steps.
enum { SPINS_BEFORE_YIELD = 2000 };

static pthread_mutex_t team_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the caller of a run
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_condition = PTHREAD_COND_INITIALIZER;
static int workers_started;  // guarded by team_lock

// The current job. Written by the caller before `generation` is released, read by workers after
// acquiring it; the caller waits for every worker to finish the generation before the next job.
static tempo_team_function job_function;
static void *job_context;
static int job_threads;
static _Atomic unsigned long generation;
static _Atomic int unfinished_workers;

static _Atomic int barrier_arrived;
static _Atomic unsigned barrier_phase;
static _Atomic int barrier_sleepers;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *argument) {
    const int index = (int)(intptr_t)argument;
    unsigned long seen = 0;
    for (;;) {
        unsigned long current;
        int spins = 0;
        while ((current = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < SPINS_BEFORE_YIELD) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&wake_lock);
            while ((current = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
                pthread_cond_wait(&wake_condition, &wake_lock);
            }
            pthread_mutex_unlock(&wake_lock);
            break;
        }
        seen = current;
        if (index < job_threads) job_function(job_context, index, job_threads);
        atomic_fetch_sub_explicit(&unfinished_workers, 1, memory_order_acq_rel);
    }
    return 0;
}

int tempo_team_run(int threads, tempo_team_function function, void *context) {
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    if (threads <= 1 || pthread_mutex_trylock(&team_lock) != 0) {
        function(context, 0, 1);
        return 1;
    }
    while (workers_started < threads - 1) {
        pthread_t thread;
        if (pthread_create(&thread, 0, worker_main, (void *)(intptr_t)(workers_started + 1)) != 0) break;
        pthread_detach(thread);
        workers_started += 1;
    }
    if (threads > workers_started + 1) threads = workers_started + 1;

    job_function = function;
    job_context = context;
    job_threads = threads;
    atomic_store_explicit(&unfinished_workers, workers_started, memory_order_relaxed);
    pthread_mutex_lock(&wake_lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);
    pthread_cond_broadcast(&wake_condition);
    pthread_mutex_unlock(&wake_lock);

    function(context, 0, threads);

    int spins = 0;
    while (atomic_load_explicit(&unfinished_workers, memory_order_acquire) > 0) {
        if (++spins < SPINS_BEFORE_YIELD) cpu_relax(); else sched_yield();
    }
    pthread_mutex_unlock(&team_lock);
    return threads;
}

// Sleeping until `*word` differs from `value` (or returning at once if it already does). Only
// Linux has futexes; elsewhere a waiter yields instead.
static void wait_while_equal(_Atomic unsigned *word, unsigned value) {
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, value, 0, 0, 0);
#else
    (void)word;
    (void)value;
    sched_yield();
#endif
}

static void wake_all(_Atomic unsigned *word) {
#if defined(__linux__)
    syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
#else
    (void)word;
#endif
}

unsigned tempo_team_arrive(int threads) {
    const unsigned phase = atomic_load_explicit(&barrier_phase, memory_order_relaxed);
    // A team of one has passed already: its ticket is a phase that is not current.
    if (threads <= 1) return phase - 1;
    if (atomic_fetch_add_explicit(&barrier_arrived, 1, memory_order_acq_rel) == threads - 1) {
        atomic_store_explicit(&barrier_arrived, 0, memory_order_relaxed);
        atomic_store(&barrier_phase, phase + 1);
        if (atomic_load(&barrier_sleepers) > 0) wake_all(&barrier_phase);
    }
    return phase;
}

int tempo_team_passed(unsigned ticket) {
    return atomic_load_explicit(&barrier_phase, memory_order_acquire) != ticket;
}

void tempo_team_wait(unsigned ticket) {
    for (int spins = 0; spins < SPINS_BEFORE_YIELD; spins++) {
        if (tempo_team_passed(ticket)) return;
        cpu_relax();
    }
    // Still waiting: the thread we wait for is probably not running (more runnable threads than
    // cores, from other processes or OpenBLAS's spinning workers), so give this core up until
    // it arrives rather than spin on it. The sleeper count is read by the last arriver after its
    // store of the phase, and set here before the phase is read again (both sequentially
    // consistent), so either it sees a sleeper and wakes it or the sleeper sees the new phase.
    atomic_fetch_add(&barrier_sleepers, 1);
    while (atomic_load(&barrier_phase) == ticket) wait_while_equal(&barrier_phase, ticket);
    atomic_fetch_sub(&barrier_sleepers, 1);
}

void tempo_team_barrier(int threads) {
    tempo_team_wait(tempo_team_arrive(threads));
}
