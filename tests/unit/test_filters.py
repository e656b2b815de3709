"""Filters from what a user typed: one path for the CLI flags, the /ask API and the chat (assistant/filters.py)."""

from __future__ import annotations

import pytest

from assistant.errors import BadInput
from assistant.filters import check_date, describe_filters, make_filters
from assistant.retrieval import Filters
from index.state import FileRecord

FILES = [
    FileRecord("a.txt", "h1", "d1", "txt", {"outlet": "RIAU24.COM", "date": "2022-09-27"}, []),
    FileRecord("b.txt", "h2", "d2", "txt", {"outlet": "Intisari - Online.com"}, []),
    FileRecord("c.txt", "h3", "d3", "txt", {"outlet": "RIAU24.COM"}, []),
    FileRecord("d.txt", "h4", "d4", "txt", {}, []),
]


def test_no_input_is_no_filter():
    assert make_filters(FILES) == Filters()
    assert describe_filters(make_filters(FILES, [], "", " ", None)) == ""


def test_outlets_are_matched_without_case_punctuation_or_domain_ending():
    assert make_filters(FILES, outlets="riau24").sources == {"a.txt", "c.txt"}
    assert make_filters(FILES, outlets=["Intisari Online.com"]).sources == {"b.txt"}
    assert make_filters(FILES, sources=["a.txt", "b.txt"], outlets=["Riau24.com"]).sources == {"a.txt"}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"date_from": "27/09/2022"}, "date from must look like yyyy-mm-dd"),
    ({"date_to": "2022-02-30"}, "date to must look like yyyy-mm-dd"),
    ({"date_from": "2022-10-01", "date_to": "2022-09-01"}, "the date range is empty"),
    ({"sources": ["nope.txt"]}, "source 'nope.txt' is not in the index"),
    ({"outlets": ["Kompas"]}, "no indexed article is from outlet 'Kompas'"),
    ({"sources": ["d.txt"], "outlets": ["Riau24"]}, "no indexed article is both"),
    ({"sources": [3]}, "source must be text"),
])
def test_mistakes_are_one_line(kwargs, message):
    with pytest.raises(BadInput, match=message) as info:
        make_filters(FILES, **kwargs)
    assert "\n" not in str(info.value)


def test_dates_are_kept_and_described():
    f = make_filters(FILES, sources="a.txt", date_from=" 2022-09-01 ", date_to="2022-09-30")
    assert f == Filters(frozenset({"a.txt"}), "2022-09-01", "2022-09-30")
    assert describe_filters(f) == "articles a.txt · from 2022-09-01 · to 2022-09-30"
    assert check_date("", "date from") is None
