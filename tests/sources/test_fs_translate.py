"""The inotify reader's sans-IO half: bytes as the kernel writes them, turned into drafts."""

from __future__ import annotations

import struct
from pathlib import Path

from waitbus.event import Conclusion
from waitbus.sources.fs import inotify
from waitbus.sources.fs.inotify import RawEvent, Translator, parse


def raw_bytes(wd: int, mask: int, cookie: int = 0, name: bytes = b"") -> bytes:
    padded = name + b"\0" * (16 - len(name) % 16) if name else b""
    return struct.pack("iIII", wd, mask, cookie, len(padded)) + padded


def test_parse_splits_events_and_strips_name_padding() -> None:
    data = raw_bytes(1, inotify.IN_CREATE, name=b"a.txt") + raw_bytes(2, inotify.IN_DELETE_SELF)
    assert parse(data) == [RawEvent(1, inotify.IN_CREATE, 0, b"a.txt"),
                           RawEvent(2, inotify.IN_DELETE_SELF, 0, b"")]


def test_move_halves_in_one_batch_become_one_move(tmp_path: Path) -> None:
    events = parse(raw_bytes(1, inotify.IN_MOVED_FROM, 7, b"old")
                   + raw_bytes(1, inotify.IN_MOVED_TO, 7, b"new"))
    (draft,) = Translator({1: tmp_path}).feed(events, 0)
    assert draft.fields["kind"] == "move"
    assert (draft.fields["from"], draft.fields["to"]) == (str(tmp_path / "old"),
                                                          str(tmp_path / "new"))
    assert draft.subject == str(tmp_path / "new")


def test_move_halves_split_across_reads_still_pair(tmp_path: Path) -> None:
    translator = Translator({1: tmp_path})
    first = translator.feed(parse(raw_bytes(1, inotify.IN_MOVED_FROM, 5, b"old")), 0,
                            final=False)
    assert first == []
    (draft,) = translator.feed(parse(raw_bytes(1, inotify.IN_MOVED_TO, 5, b"new")), 0)
    assert (draft.fields["from"], draft.fields["to"]) == (str(tmp_path / "old"),
                                                          str(tmp_path / "new"))


def test_lone_moved_from_is_reported_by_the_final_batch(tmp_path: Path) -> None:
    translator = Translator({1: tmp_path})
    translator.feed(parse(raw_bytes(1, inotify.IN_MOVED_FROM, 6, b"gone")), 0, final=False)
    (draft,) = translator.feed([], 0)
    assert (draft.fields["from"], draft.fields["to"]) == (str(tmp_path / "gone"), None)
    assert translator.unpaired == {}


def test_move_in_from_outside_has_no_from(tmp_path: Path) -> None:
    (draft,) = Translator({1: tmp_path}).feed(
        parse(raw_bytes(1, inotify.IN_MOVED_TO, 9, b"in")), 0)
    assert (draft.fields["from"], draft.fields["to"]) == (None, str(tmp_path / "in"))


def test_removed_watch_drops_its_later_events(tmp_path: Path) -> None:
    translator = Translator({1: tmp_path})
    data = raw_bytes(1, inotify.IN_IGNORED) + raw_bytes(1, inotify.IN_CREATE, name=b"late")
    assert translator.feed(parse(data), 0) == []
    assert translator.watches == {}


def test_queue_overflow_is_a_failure_naming_the_watched_paths(tmp_path: Path) -> None:
    (draft,) = Translator({1: tmp_path}, (tmp_path,)).feed(
        parse(raw_bytes(-1, inotify.IN_Q_OVERFLOW)), 0)
    assert draft.type == "overflow"
    assert draft.conclusion is Conclusion.FAILURE
    assert draft.fields["paths"] == [str(tmp_path)]


def test_directory_entries_are_marked_and_carry_no_size(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (draft,) = Translator({1: tmp_path}).feed(
        parse(raw_bytes(1, inotify.IN_CREATE | inotify.IN_ISDIR, name=b"d")), 0)
    assert draft.fields["is_dir"] is True
    assert "size" not in draft.fields
