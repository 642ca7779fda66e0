// thread_team.c -- see thread_team.h.
#include "thread_team.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

enum { MAX_WORKERS = 63 };
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

void tempo_team_barrier(int threads) {
    if (threads <= 1) return;
    const unsigned phase = atomic_load_explicit(&barrier_phase, memory_order_relaxed);
    if (atomic_fetch_add_explicit(&barrier_arrived, 1, memory_order_acq_rel) == threads - 1) {
        atomic_store_explicit(&barrier_arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&barrier_phase, phase + 1, memory_order_release);
        return;
    }
    int spins = 0;
    while (atomic_load_explicit(&barrier_phase, memory_order_acquire) == phase) {
        // Yield once spinning has lasted: with more runnable threads than cores (OpenBLAS's
        // threads spin after each call too) the thread we wait for may need this core.
        if (++spins < SPINS_BEFORE_YIELD) cpu_relax(); else sched_yield();
    }
}
