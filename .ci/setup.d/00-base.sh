# Tools every run needs: util-linux for setpriv (tests run a client as another user).
APT_PACKAGES+=(util-linux)
