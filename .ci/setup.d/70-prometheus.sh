# promtool (Debian's prometheus package) checks the daemon's /metrics page in tests/e2e/test_metrics.py.
APT_PACKAGES+=(prometheus)
