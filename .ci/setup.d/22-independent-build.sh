# Debian's own python3 and venv: the base interpreter of the second, independent builder
# (packaging/release/check_independent_build.sh), unrelated to the interpreter uv runs.
APT_PACKAGES+=(python3 python3-venv)
