# tmux drives `waitbus top` in a real terminal for tests/e2e/test_top.py.
APT_PACKAGES+=(tmux)
