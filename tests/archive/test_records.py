"""Encoding one capture: WARC records as warcio reads them, digests, renamed framing headers."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import zlib

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.archive import encode_capture, sha256_to_warc_digest, warc_digest_to_hex
from pipeline.archive.records import archived_http_headers, received_http_headers
from tests.archive.conftest import capture


def records(data: bytes) -> list:
    out = []
    for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
        out.append((record.rec_type, record.rec_headers, record.http_headers, record.raw_stream.read()))
    return out


def test_response_record_holds_status_headers_body_and_sha256_digests() -> None:
    body = "<html><p>caf\u00e9 \u2014 news</p></html>".encode()
    encoded = encode_capture(capture("https://herald.example/a?x=1", body,
                                     headers={"content-type": "text/html", "etag": '"v1"', "server": "nginx"}))
    (kind, warc, http, payload), *_ = records(encoded.data)
    assert kind == "response"
    assert payload == body
    assert warc.get_header("WARC-Target-URI") == "https://herald.example/a?x=1"
    assert warc.get_header("WARC-Date") == "2026-11-20T09:30:15.123456Z"
    expected = "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode()
    assert warc.get_header("WARC-Payload-Digest") == expected
    assert warc.get_header("WARC-Block-Digest").startswith("sha256:")
    assert (http.protocol, http.statusline) == ("HTTP/1.1", "200 OK")
    assert http.headers == [("content-type", "text/html"), ("etag", '"v1"'), ("server", "nginx"),
                            ("Content-Length", str(len(body)))]
    assert encoded.sha256 == hashlib.sha256(body).hexdigest()


def test_each_record_is_its_own_gzip_member_and_the_response_comes_first() -> None:
    encoded = encode_capture(capture("https://herald.example/b", request_headers=[("User-Agent", "np/1")]))
    first = zlib.decompressobj(zlib.MAX_WBITS | 16)
    first.decompress(encoded.data)
    assert len(encoded.data) - len(first.unused_data) == encoded.response_length  # one member = the response
    assert [r[0] for r in records(encoded.data)] == ["response", "request", "metadata"]
    assert gzip.decompress(encoded.data).startswith(b"WARC/1.1\r\n")


def test_request_and_metadata_records_point_at_the_response() -> None:
    encoded = encode_capture(capture("https://herald.example/final", request_headers=[("User-Agent", "np/1")],
                                     origin="s3://cc/x.warc.gz#123"))
    response, request, metadata = records(encoded.data)
    response_id = response[1].get_header("WARC-Record-ID")
    assert response_id == encoded.record_id
    for _, warc, _, _ in (request, metadata):
        assert warc.get_header("WARC-Concurrent-To") == response_id
        assert warc.get_header("WARC-Date") == response[1].get_header("WARC-Date")
    assert (request[2].protocol, request[2].statusline) == ("GET", "/final HTTP/1.1")
    assert request[2].get_header("Host") == "herald.example"
    fields = dict(line.split(": ", 1) for line in metadata[3].decode().splitlines())
    assert fields["source"] == "herald" and fields["run-id"] == "7" and fields["origin"] == "s3://cc/x.warc.gz#123"


def test_metadata_keeps_the_requested_url_of_a_redirected_capture() -> None:
    redirected = capture("https://herald.example/old")
    redirected = type(redirected)(**{**redirected.__dict__, "final_url": "https://herald.example/new"})
    response, metadata = records(encode_capture(redirected).data)
    assert response[1].get_header("WARC-Target-URI") == "https://herald.example/new"
    assert b"requested-uri: https://herald.example/old\r\n" in metadata[3]


def test_framing_headers_of_the_decoded_body_are_renamed_and_restored() -> None:
    received = {"content-type": "text/html", "content-encoding": "gzip", "transfer-encoding": "chunked",
                "content-length": "1234", "vary": "Accept-Encoding"}
    body = b"<p>decoded by the client</p>"
    written = archived_http_headers(received, len(body))
    assert ("X-Crawler-content-encoding", "gzip") in written and ("Content-Length", str(len(body))) in written
    assert ("content-encoding", "gzip") not in written
    assert received_http_headers(written) == received
    (_, _, http, payload), _ = records(encode_capture(capture("https://h.example/z", body, headers=received)).data)
    assert payload == body  # a WARC reader does not try to gunzip or de-chunk it


@pytest.mark.parametrize("hostile", ["a\r\nSet-Cookie: injected=1", "x\n\nHTTP/1.1 200 OK", "nul\x00byte"])
def test_hostile_header_values_cannot_break_the_record(hostile: str) -> None:
    encoded = encode_capture(capture("https://h.example/h", headers={"content-type": "text/html", "x-h": hostile}))
    (_, _, http, payload), _ = records(encoded.data)
    assert payload == b"<html><body><p>hello</p></body></html>"
    assert [name for name, _ in http.headers] == ["content-type", "x-h", "Content-Length"]


def test_empty_body_and_unknown_status_are_archived() -> None:
    encoded = encode_capture(capture("https://h.example/e", b"", status=299))
    (_, warc, http, payload), _ = records(encoded.data)
    assert payload == b"" and http.statusline == "299" and warc.get_header("Content-Length")


def test_compression_level_changes_size_not_content() -> None:
    body = b"<p>" + b"news " * 5000 + b"</p>"
    fast, small = (encode_capture(capture("https://h.example/l", body), level) for level in (1, 9))
    assert len(fast.data) > len(small.data)
    assert records(fast.data)[0][3] == records(small.data)[0][3] == body


def test_digest_conversions() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    assert warc_digest_to_hex(sha256_to_warc_digest(sha)) == ("sha256", sha)
    sha1 = hashlib.sha1(b"x")
    assert warc_digest_to_hex("sha1:" + base64.b32encode(sha1.digest()).decode()) == ("sha1", sha1.hexdigest())
    assert warc_digest_to_hex(f"sha256:{sha}") == ("sha256", sha)
    assert warc_digest_to_hex("nonsense") is None and warc_digest_to_hex("md5:zz") is None
