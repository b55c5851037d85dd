"""The first-contact demo: a real daemon and real waits, released by real events."""
