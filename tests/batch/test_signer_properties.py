"""Property tests: our SharedKey signature equals the official SDK's for generated requests."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_tui.batch._transport import file_path, query_string, segment
from tests.batch.test_auth import DATE, HOST, JSON, sdk_authorization, signed

# Letters, digits, punctuation the URL encoder must handle (space, %, \, quotes, +, &, =, #, ?)
# and non-ASCII text (accents, CJK, emoji), so that every encoding path is exercised.
_WIDE = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc"),
) | st.sampled_from(" %\\'\"+&=#?;:@$,!*()[]~é漢🙂")

_SEGMENTS = st.text(_WIDE, min_size=1, max_size=12)

_FILTER_VALUES = st.builds(
    lambda field, value: f"{field} eq '{value}'",
    st.sampled_from(["id", "state", "displayName", "executionInfo/result"]),
    st.text(_WIDE, max_size=16).map(lambda text: text.replace("'", "''")),
)


@st.composite
def queries(draw: st.DrawFn) -> dict[str, str]:
    """A query as the client sends it: optional OData options, always `api-version`."""
    query: dict[str, str] = {}
    if draw(st.booleans()):
        query["$filter"] = draw(_FILTER_VALUES)
    if draw(st.booleans()):
        query["maxresults"] = str(draw(st.integers(1, 1000)))
    if draw(st.booleans()):
        fields = draw(st.lists(st.sampled_from(["id", "state", "nodeInfo", "url"]), min_size=1))
        query["$select"] = ",".join(fields)
    if draw(st.booleans()):
        query["timeout"] = draw(st.sampled_from(["", "30"]))  # empty values are not signed
    query["api-version"] = "2024-07-01.20.0"
    return query


@st.composite
def paths(draw: st.DrawFn) -> str:
    """An encoded path: entity ids as segments, optionally a node file path with `/` kept."""
    ids = draw(st.lists(_SEGMENTS, min_size=1, max_size=3))
    kind = draw(st.sampled_from(["jobs", "pools"]))
    path = f"/{kind}/" + "/".join(segment(value) for value in ids)
    if draw(st.booleans()):
        parts = draw(st.lists(_SEGMENTS.filter(lambda s: "/" not in s), min_size=1, max_size=3))
        path += "/files/" + file_path("/".join(parts))
    return path


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, str]]:
    """A request: method, URL, optional body and optional signed headers."""
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD"]))
    url = f"{HOST}{draw(paths())}?{query_string(draw(queries()))}"
    headers: dict[str, str] = {}
    body: bytes | None = None
    if method in ("POST", "PUT") and draw(st.booleans()):
        body = draw(st.text(_WIDE, max_size=40)).encode("utf-8")
        headers["Content-Type"] = JSON
    if draw(st.booleans()):
        start = draw(st.integers(0, 10**9))
        headers["ocp-range"] = f"bytes={start}-{start + draw(st.integers(0, 10**6))}"
    if draw(st.booleans()):
        headers["If-Match"] = draw(st.sampled_from(['"0x8DBAED6F7336C7A"', "0x1", "*"]))
    return method, url, body, headers


@settings(max_examples=200, deadline=None)
@given(requests())
def test_signature_matches_the_official_sdk_for_any_request(
    request: tuple[str, str, bytes | None, dict[str, str]],
) -> None:
    method, url, body, headers = request
    ours = signed(method, url, body, **headers)
    # The SDK signs what it will send: the same headers, with the Content-Length of the body.
    sdk_headers = {"ocp-date": DATE, **headers}
    if body is not None:
        sdk_headers["Content-Length"] = str(len(body))
    assert ours.headers["Authorization"] == sdk_authorization(method, url, body, sdk_headers)


@settings(max_examples=50, deadline=None)
@given(requests(), st.sampled_from(["x", "~"]))
def test_a_changed_path_changes_the_signature(
    request: tuple[str, str, bytes | None, dict[str, str]], extra: str
) -> None:
    method, url, body, headers = request
    path, query = url.split("?", 1)
    other = f"{path}{extra}?{query}"
    first = signed(method, url, body, **headers).headers["Authorization"]
    assert signed(method, other, body, **headers).headers["Authorization"] != first
