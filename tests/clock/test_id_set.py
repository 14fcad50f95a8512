"""The applied (source, id) pairs of a subject (rule 5) behave as a set of pairs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from slawatch.clock.subject import IdSet

SOURCES = st.sampled_from([None, "jira", "zendesk", ""])
PAIRS = st.tuples(SOURCES, st.sampled_from(["e1", "e2", "jira", "", "None"]) | st.text(max_size=4))


@given(st.lists(PAIRS, max_size=30), st.lists(PAIRS, max_size=10))
def test_an_id_set_holds_exactly_the_pairs_added_and_keeps_them_in_its_record(
    added: list[tuple[str | None, str]], probes: list[tuple[str | None, str]]
) -> None:
    """Small and large (past eight pairs it becomes a set); a pair without a source is
    not the same as one with a source, whatever the id reads; a record restores it."""
    ids = IdSet()
    for pair in added:
        ids.add(pair)
    want = set(added)
    restored = IdSet.from_record(ids.to_record())
    for pair in [*added, *probes]:
        assert (pair in ids) == (pair in want)
        assert (pair in restored) == (pair in want)
    assert sorted(map(tuple, ids.to_record()), key=repr) == sorted(want, key=repr)
    assert ids.to_record() == restored.to_record()
