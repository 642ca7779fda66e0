// thread_team.c -- see thread_team.h.
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE  // sched_getcpu and the CPU_* affinity macros
#endif
#include "thread_team.h"

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

enum { MAX_WORKERS = TEMPO_MAX_TEAM - 1 };
// Pause instructions a waiting thread spins before it yields or sleeps: about 50 us here (a
// pause is 40-140 cycles on current x86), long enough to bridge back-to-back calls.
enum { SPINS_BEFORE_YIELD = 2000 };
// How long a barrier waiter yields its core before it sleeps. It must outlast waking a sleeping
// thread: on a VM whose idle virtual CPU halts, a futex wake took 50-100 us, longer than the spin,
// so two threads out of step fell into taking turns to sleep at every barrier and never caught
// up (LSTM B1 T128: 9.8 ms instead of 1.1 when called after 100 ms idle). Yielding still hands
// the core to any other runnable thread, the reason not to spin.
enum { YIELD_NANOSECONDS = 2000000 };
// Pause instructions a barrier waiter spins before it starts yielding, about 5 us: a step's
// threads usually arrive within that of each other, and when they share a core the one that
// waits must give it up soon (a 50 us spin cost every step that much).
enum { BARRIER_SPINS = 200 };

static pthread_mutex_t team_lock = PTHREAD_MUTEX_INITIALIZER;  // held by the caller of a run
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_condition = PTHREAD_COND_INITIALIZER;
static int workers_started;  // guarded by team_lock

// The current job, published like a seqlock: the caller makes `generation` odd, writes the job,
// then makes it even; a worker reads the job between two equal even readings. A `tempo_team_run`
// caller waits for every worker to finish the job before the next one; a `tempo_team_share`
// caller does not, so a late worker may read the fields while the next job is written.
static _Atomic(tempo_team_function) job_function;
static _Atomic(tempo_item_function) job_item_function;
static _Atomic(void *) job_context;
static _Atomic int job_threads;
static _Atomic int job_caller_cpu;  // the core the caller ran on when it published, or -1
static _Atomic unsigned long generation;
static _Atomic int unfinished_workers;

// A shared job's progress in one word: the low 20 bits of its generation, its phase (12 bits),
// then the first and the end of the phase's items nobody has taken (16 bits each), so that a
// claim is one compare-and-swap that fails once the phase or the job is over or another job has
// begun. Items of the phase finished, so that the thread finishing the last one starts the next
// phase. The phase count and the item counts, published with the job.
static _Atomic unsigned long long share_state;
static _Atomic int share_finished;
static _Atomic int share_phases;
static _Atomic(const int *) share_items;

static _Atomic int barrier_arrived;
static _Atomic unsigned barrier_phase;
static _Atomic int barrier_sleepers;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

enum { SHARE_MAX_PHASES = 0xfff, SHARE_MAX_ITEMS = 0xffff };

static unsigned long long share_word(unsigned long job, unsigned phase, unsigned front, unsigned end) {
    return ((unsigned long long)(job & 0xfffff) << 44) | ((unsigned long long)phase << 32)
         | ((unsigned long long)front << 16) | end;
}

enum { PHASE_TAKEN = -1, JOB_OVER = -2 };

// Takes one item of shared job `job` from the front (the caller) or the back (a worker) and sets
// `*phase` to its phase; returns PHASE_TAKEN when every item of the current phase is taken (but
// not all finished), or JOB_OVER once the job is over.
static int claim_item(unsigned long job, int from_front, int *phase) {
    unsigned long long state = atomic_load_explicit(&share_state, memory_order_acquire);
    for (;;) {
        const unsigned front = (unsigned)(state >> 16) & 0xffff, end = (unsigned)state & 0xffff;
        const unsigned current = (unsigned)(state >> 32) & 0xfff;
        if ((state >> 44) != (job & 0xfffff) || (int)current >= atomic_load_explicit(&share_phases, memory_order_relaxed))
            return JOB_OVER;
        if (front >= end) return PHASE_TAKEN;
        const unsigned long long next =
            from_front ? share_word(job, current, front + 1, end) : share_word(job, current, front, end - 1);
        if (atomic_compare_exchange_weak_explicit(&share_state, &state, next, memory_order_acq_rel, memory_order_acquire)) {
            *phase = (int)current;
            return from_front ? (int)front : (int)end - 1;
        }
    }
}

// Counts an item of `phase` finished; the thread finishing a phase's last item starts the next
// phase with items (or ends the job). The counts are read before the item is counted: once the
// last one is, the caller may return and its `items` array be gone.
static void finish_item(unsigned long job, int phase) {
    const int *items = atomic_load_explicit(&share_items, memory_order_relaxed);
    const int phases = atomic_load_explicit(&share_phases, memory_order_relaxed);
    int next = phase + 1;
    while (next < phases && items[next] == 0) next += 1;
    const unsigned next_items = next < phases ? (unsigned)items[next] : 0;
    const int last = items[phase] - 1;
    if (atomic_fetch_add_explicit(&share_finished, 1, memory_order_acq_rel) != last) return;
    atomic_store_explicit(&share_finished, 0, memory_order_relaxed);
    atomic_store_explicit(&share_state, share_word(job, (unsigned)next, 0, next_items), memory_order_release);
}

// Runs items of shared job `job` until it is over, waiting (spinning, then yielding) while the
// items of a phase are all taken but not all finished. Returns the number of items it ran.
static int run_shared_items(unsigned long job, tempo_item_function function, void *context, int from_front) {
    int ran = 0, spins = 0;
    for (;;) {
        int phase;
        const int item = claim_item(job, from_front, &phase);
        if (item == JOB_OVER) return ran;
        if (item == PHASE_TAKEN) {
            if (++spins < SPINS_BEFORE_YIELD) cpu_relax(); else sched_yield();
            continue;
        }
        spins = 0;
        function(context, phase, item);
        finish_item(job, phase);
        ran += 1;
    }
}

// Waits for a published job after `seen`: spins, then sleeps. Returns its (even) generation.
static unsigned long wait_for_job(unsigned long seen) {
    int spins = 0;
    unsigned long current;
    while ((current = atomic_load_explicit(&generation, memory_order_acquire)) == seen || (current & 1)) {
        if (++spins < SPINS_BEFORE_YIELD) {
            cpu_relax();
            continue;
        }
        pthread_mutex_lock(&wake_lock);
        while ((current = atomic_load_explicit(&generation, memory_order_acquire)) == seen || (current & 1)) {
            pthread_cond_wait(&wake_condition, &wake_lock);
        }
        pthread_mutex_unlock(&wake_lock);
    }
    return current;
}

#if defined(__linux__)
// The cores this process may use, read when a worker first has to move.
static cpu_set_t allowed_cores;
static pthread_once_t allowed_cores_once = PTHREAD_ONCE_INIT;
static void read_allowed_cores(void) {
    if (sched_getaffinity(0, sizeof allowed_cores, &allowed_cores) != 0) CPU_ZERO(&allowed_cores);
}
#endif

// A worker woken from sleep often starts on its waker's core (Linux prefers it for a woken
// thread), and the two then share it until the load balancer moves one, milliseconds later: a
// whole sequence of barriers taking turns on one core (LSTM B1 T128: 9 ms instead of 1.1 when
// called after 100 ms idle). So a worker that finds itself on the caller's core at the start of
// a job leaves it; returns whether it did, so that it can take its cores back afterwards.
static int leave_core(int caller_cpu) {
#if defined(__linux__)
    if (caller_cpu < 0 || sched_getcpu() != caller_cpu) return 0;
    pthread_once(&allowed_cores_once, read_allowed_cores);
    cpu_set_t others = allowed_cores;
    CPU_CLR(caller_cpu, &others);
    if (CPU_COUNT(&others) == 0) return 0;
    return sched_setaffinity(0, sizeof others, &others) == 0;
#else
    (void)caller_cpu;
    return 0;
#endif
}

static void restore_cores(void) {
#if defined(__linux__)
    if (CPU_COUNT(&allowed_cores) > 0) sched_setaffinity(0, sizeof allowed_cores, &allowed_cores);
#endif
}

static void *worker_main(void *argument) {
    const int index = (int)(intptr_t)argument;
    unsigned long seen = 0;
    for (;;) {
        const unsigned long current = wait_for_job(seen);
        const tempo_team_function function = atomic_load_explicit(&job_function, memory_order_relaxed);
        const tempo_item_function item_function = atomic_load_explicit(&job_item_function, memory_order_relaxed);
        void *const context = atomic_load_explicit(&job_context, memory_order_relaxed);
        const int threads = atomic_load_explicit(&job_threads, memory_order_relaxed);
        // Torn: a shared job ended and the next was written meanwhile; read that one instead.
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&generation, memory_order_relaxed) != current) continue;
        seen = current;
        if (item_function) {
            if (index < threads) {
                const int moved = leave_core(atomic_load_explicit(&job_caller_cpu, memory_order_relaxed));
                (void)run_shared_items(current, item_function, context, 0);
                if (moved) restore_cores();
            }
            continue;
        }
        if (index < threads) {
            const int moved = leave_core(atomic_load_explicit(&job_caller_cpu, memory_order_relaxed));
            function(context, index, threads);
            if (moved) restore_cores();
        }
        atomic_fetch_sub_explicit(&unfinished_workers, 1, memory_order_acq_rel);
    }
    return 0;
}

// Publishes a job to the workers (the caller holds team_lock) and wakes the sleeping ones.
static void publish(tempo_team_function function, tempo_item_function item_function, void *context, int threads) {
    atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed);  // odd: being written
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&job_function, function, memory_order_relaxed);
    atomic_store_explicit(&job_item_function, item_function, memory_order_relaxed);
    atomic_store_explicit(&job_context, context, memory_order_relaxed);
    atomic_store_explicit(&job_threads, threads, memory_order_relaxed);
#if defined(__linux__)
    atomic_store_explicit(&job_caller_cpu, sched_getcpu(), memory_order_relaxed);
#else
    atomic_store_explicit(&job_caller_cpu, -1, memory_order_relaxed);
#endif
    pthread_mutex_lock(&wake_lock);
    atomic_fetch_add_explicit(&generation, 1, memory_order_release);  // even: published
    pthread_cond_broadcast(&wake_condition);
    pthread_mutex_unlock(&wake_lock);
}

// Starts workers until the team has `threads` threads (the caller holds team_lock); returns the
// team size reached.
static int start_workers(int threads) {
    if (threads > MAX_WORKERS + 1) threads = MAX_WORKERS + 1;
    while (workers_started < threads - 1) {
        pthread_t thread;
        if (pthread_create(&thread, 0, worker_main, (void *)(intptr_t)(workers_started + 1)) != 0) break;
        pthread_detach(thread);
        workers_started += 1;
    }
    return threads > workers_started + 1 ? workers_started + 1 : threads;
}

int tempo_team_share(int threads, int phases, const int *items, tempo_item_function function, void *context) {
    int total = 0, largest = 0;
    for (int phase = 0; phase < phases; phase++) {
        total += items[phase];
        if (items[phase] > largest) largest = items[phase];
    }
    // Beyond what the state word holds (no caller comes near: its items are panels) runs here.
    if (threads <= 1 || total <= 1 || phases > SHARE_MAX_PHASES || largest > SHARE_MAX_ITEMS
        || pthread_mutex_trylock(&team_lock) != 0) {
        for (int phase = 0; phase < phases; phase++)
            for (int item = 0; item < items[phase]; item++) function(context, phase, item);
        return total;
    }
    threads = start_workers(threads);
    int first = 0;
    while (items[first] == 0) first += 1;  // total > 1: some phase has items
    atomic_store_explicit(&share_finished, 0, memory_order_relaxed);
    atomic_store_explicit(&share_phases, phases, memory_order_relaxed);
    atomic_store_explicit(&share_items, items, memory_order_relaxed);
    // The state names the job's generation once published: two more than the current one.
    const unsigned long job = atomic_load_explicit(&generation, memory_order_relaxed) + 2;
    atomic_store_explicit(&share_state, share_word(job, (unsigned)first, 0, (unsigned)items[first]), memory_order_relaxed);
    publish(0, function, context, threads);
    // Returns once the last phase is over: only items a worker took are waited for.
    const int ran = run_shared_items(job, function, context, 1);
    pthread_mutex_unlock(&team_lock);
    return ran;
}

int tempo_team_run(int threads, tempo_team_function function, void *context) {
    if (threads <= 1 || pthread_mutex_trylock(&team_lock) != 0) {
        function(context, 0, 1);
        return 1;
    }
    threads = start_workers(threads);
    atomic_store_explicit(&unfinished_workers, workers_started, memory_order_relaxed);
    publish(function, 0, context, threads);

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

static long long monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec * 1000000000 + now.tv_nsec;
}

void tempo_team_wait(unsigned ticket) {
    for (int spins = 0; spins < BARRIER_SPINS; spins++) {
        if (tempo_team_passed(ticket)) return;
        cpu_relax();
    }
    // Still waiting: the thread we wait for is late (just woken, or not running because this
    // machine has more runnable threads than cores, or waiting for this very core: a thread
    // woken by another often starts on the waker's core), so yield the core to whoever can use it,
    // then, past YIELD_NANOSECONDS, sleep until the last arrival wakes us. The sleeper count is
    // read by the last arriver after its store of the phase, and set here before the phase is
    // read again (both sequentially consistent), so either it sees a sleeper and wakes it or the
    // sleeper sees the new phase.
    const long long give_up = monotonic_nanoseconds() + YIELD_NANOSECONDS;
    while (!tempo_team_passed(ticket)) {
        if (monotonic_nanoseconds() > give_up) {
            atomic_fetch_add(&barrier_sleepers, 1);
            while (atomic_load(&barrier_phase) == ticket) wait_while_equal(&barrier_phase, ticket);
            atomic_fetch_sub(&barrier_sleepers, 1);
            return;
        }
        sched_yield();
    }
}

void tempo_team_barrier(int threads) {
    tempo_team_wait(tempo_team_arrive(threads));
}
