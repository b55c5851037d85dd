# Docker for tests/sources/test_docker_events.py: an engine, and a local busybox image.
# No image registry is reachable in CI, so the image is imported from Debian's busybox-static.
# On the development VM (Debian 12, kernel 6.x, cgroup v1 hierarchy, running as root) a plain
# `dockerd` from docker.io 20.10 starts with its defaults (overlay2, iptables, docker0 bridge);
# none of --iptables=false, --bridge=none, --storage-driver=vfs was needed.
APT_PACKAGES+=(docker.io busybox-static)

WAITBUS_TEST_IMAGE=waitbus-busybox:test

start_docker() {
    if ! docker info >/dev/null 2>&1; then
        local log pid i
        log=$(mktemp /tmp/dockerd.XXXXXX.log)
        dockerd >"$log" 2>&1 &
        pid=$!
        CLEANUP+=("kill $pid; for _ in {1..100}; do kill -0 $pid 2>/dev/null || break; sleep 0.1; done")
        for i in {1..60}; do
            docker info >/dev/null 2>&1 && break
            if ! kill -0 "$pid" 2>/dev/null || ((i == 60)); then
                echo "dockerd did not start; its log ($log):" >&2
                tail -n 40 "$log" >&2
                return 1
            fi
            sleep 0.5
        done
    fi
    docker image inspect "$WAITBUS_TEST_IMAGE" >/dev/null 2>&1 || import_busybox_image
}

import_busybox_image() {
    local root tool
    root=$(mktemp -d)
    mkdir -p "$root/bin" "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for tool in sh true false sleep echo cat kill env; do
        ln -s busybox "$root/bin/$tool"
    done
    tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' - "$WAITBUS_TEST_IMAGE" >/dev/null
    rm -rf "$root"
}

STARTERS+=(start_docker)
