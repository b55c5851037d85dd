# reprotest and what its variations need (packaging/release/check_reproducible.sh says which run):
# faketime for time, disorderfs and fuse3 for fileordering, and the et_EE.UTF-8 locale that the
# locales variation switches to (without it the variation silently falls back to C).
APT_PACKAGES+=(reprotest faketime disorderfs fuse3 locales)

make_reprotest_locale() {
    locale -a | grep -qix 'et_EE.utf8' || localedef -i et_EE -f UTF-8 et_EE.UTF-8
}
STARTERS+=(make_reprotest_locale)
