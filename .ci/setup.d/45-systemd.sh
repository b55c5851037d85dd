# systemd-analyze (unit checks) and systemd-creds (secret round trip) for tests/install.
APT_PACKAGES+=(systemd)
