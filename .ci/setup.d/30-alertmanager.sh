# The Alertmanager source's tests start their own alertmanager per test (temp config, storage
# and loopback port), so only the package is needed here.
APT_PACKAGES+=(prometheus-alertmanager)
