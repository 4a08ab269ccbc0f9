/* Callgrind client requests, loaded with ctypes by benchmarks/count_worker.py: zero the counters
   before a measured stretch and dump them, named, after it. Outside valgrind both are no-ops. */
#include <valgrind/callgrind.h>

void ff_zero(void) { CALLGRIND_ZERO_STATS; }

void ff_dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
