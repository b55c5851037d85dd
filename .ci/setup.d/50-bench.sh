# Benchmarks: the peer brokers and the file notifier that tests/benchmarks compares against,
# and valgrind for the instruction-count gate. nats-server (with -js) is also the JetStream
# server of the NATS bridge's tests (tests/bridge, tests/e2e/test_bridge.py). Each benchmark starts its own servers on free
# loopback ports and stops them by PID, so nothing is started here.
APT_PACKAGES+=(redis-server nats-server valgrind inotify-tools)
