# inotifywait: the kernel notifier's own CLI, the peer of the fs benchmark (benchmarks/bench_fs.py).
APT_PACKAGES+=(inotify-tools)
