"""The benchmark behind `benches/run` (usage: `cli`). Standard library only.

settings      where things are, and the BENCH_* settings from the environment
system        progress messages, free ports, a process tree's CPU time
redis_client  a private redis-server and a tiny RESP2 client
monitor       learning what the service sends to Redis (MONITOR), as replayable templates
spin          finding the Spin CLI, building components, `spin up` on a free port
workloads     the endpoints measured, and how the probe is told what to run
wrk           one wrk run: its Lua request script and the parsing of its report
benchmark     `benches/run`, `ratios`, `capacity`: setup, learning, seeding, measuring
parts         `benches/run parts`: Spin CPU per request of A/B builds
report        the tables both print
cli           the commands, and the usage text
"""
