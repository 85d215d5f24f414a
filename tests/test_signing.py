"""Standard Webhooks signing (RELIABILITY.md §2, test D1): known answer, UTC, refusals."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from monitor.signing import check_secret, signed_headers, verify

# RELIABILITY.md §2.5, from standardwebhooks' own test_sign_function.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
PAYLOAD = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
WHEN = dt.datetime.fromtimestamp(TIMESTAMP, dt.UTC)


def test_known_answer_vector():
    assert signed_headers(SECRET, MSG_ID, PAYLOAD, WHEN) == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TIMESTAMP),
        "webhook-signature": SIGNATURE,
    }


def test_known_answer_matches_stdlib_hmac():
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{MSG_ID}.{TIMESTAMP}.{PAYLOAD}".encode(), hashlib.sha256).digest()
    assert "v1," + base64.b64encode(mac).decode() == SIGNATURE


@pytest.mark.parametrize("hours", [2, -5, 14])
def test_non_utc_aware_time_signs_the_same_instant(hours):
    # standardwebhooks replaces tzinfo instead of converting (§0.5); that must not leak.
    local = WHEN.astimezone(dt.timezone(dt.timedelta(hours=hours)))
    assert local.utcoffset() != dt.timedelta(0)
    assert signed_headers(SECRET, MSG_ID, PAYLOAD, local) == signed_headers(
        SECRET, MSG_ID, PAYLOAD, WHEN
    )


def test_fractional_seconds_use_the_same_whole_second():
    late = WHEN + dt.timedelta(microseconds=999_999)
    assert signed_headers(SECRET, MSG_ID, PAYLOAD, late)["webhook-signature"] == SIGNATURE


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        signed_headers(SECRET, MSG_ID, PAYLOAD, WHEN.replace(tzinfo=None))


@pytest.mark.parametrize("msg_id", ["msg.1", ".", "evt_abc.", "a.b.c", ""])
def test_ids_with_a_dot_or_empty_are_refused(msg_id):
    with pytest.raises(ValueError):
        signed_headers(SECRET, msg_id, PAYLOAD, WHEN)


def _fresh(body: str = PAYLOAD, msg_id: str = MSG_ID) -> dict[str, str]:
    return signed_headers(SECRET, msg_id, body, dt.datetime.now(dt.UTC))


def test_verify_accepts_a_good_signature():
    assert verify(SECRET, PAYLOAD.encode(), _fresh()) is True


def test_verify_accepts_non_ascii_body_and_any_header_case():
    body = '{"title": "Kabul — خبر 😀"}'
    headers = {k.upper(): v for k, v in _fresh(body).items()}
    assert verify(SECRET, body.encode("utf-8"), headers) is True


def test_verify_checks_the_signature_not_the_json():
    body = "not json at all"
    assert verify(SECRET, body.encode(), _fresh(body)) is True


def test_verify_accepts_any_matching_v1_in_a_rotation_list():
    headers = _fresh()
    good = headers["webhook-signature"]
    other = "v1," + base64.b64encode(b"\x00" * 32).decode()
    headers["webhook-signature"] = f"v2,xyz {other} {good}"
    assert verify(SECRET, PAYLOAD.encode(), headers) is True


@pytest.mark.parametrize(
    "signature",
    [
        "v1",
        "v1,a,b",
        "v1,!!!not base64!!!",
        "v1,abc",  # bad padding
        "",
        "v1,",
        " ",
        "v2," + base64.b64encode(b"\x00" * 32).decode(),
        "v1," + base64.b64encode(b"\x00" * 32).decode(),
    ],
)
def test_verify_is_false_on_malformed_or_wrong_signature(signature):
    headers = _fresh() | {"webhook-signature": signature}
    assert verify(SECRET, PAYLOAD.encode(), headers) is False


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verify_is_false_on_missing_headers(missing):
    headers = _fresh()
    del headers[missing]
    assert verify(SECRET, PAYLOAD.encode(), headers) is False
    assert verify(SECRET, PAYLOAD.encode(), {}) is False


@pytest.mark.parametrize("timestamp", ["abc", "", "1e400", "nan", str(TIMESTAMP)])
def test_verify_is_false_on_bad_or_stale_timestamp(timestamp):
    headers = _fresh() | {"webhook-timestamp": timestamp}
    assert verify(SECRET, PAYLOAD.encode(), headers) is False


def test_verify_is_false_on_non_utf8_body():
    body = b'{"x": "\xff\xfe"}'
    headers = _fresh()
    assert verify(SECRET, body, headers) is False


def test_verify_is_false_on_tampering():
    headers = _fresh()
    assert verify(SECRET, b'{"test": 2432232315}', headers) is False
    assert verify(SECRET, PAYLOAD.encode(), headers | {"webhook-id": "msg_other"}) is False
    other = "whsec_" + base64.b64encode(b"k" * 32).decode()
    assert verify(other, PAYLOAD.encode(), headers) is False


def test_verify_is_false_on_unusable_secret():
    assert verify("whsec_", PAYLOAD.encode(), _fresh()) is False
    assert verify("not base64!!", PAYLOAD.encode(), _fresh()) is False


@pytest.mark.parametrize(
    "secret",
    [
        SECRET,
        SECRET.removeprefix("whsec_"),
        "whsec_" + base64.b64encode(bytes(range(32))).decode(),
        "whsec_" + base64.b64encode(bytes(range(64))).decode(),
        "whsec_" + base64.b64encode(b"x" * 32).decode().rstrip("="),
        "whsec_" + base64.b64encode(b"x" * 31).decode().rstrip("="),
        " whsec_" + base64.b64encode(b"x" * 32).decode() + "\n",  # pasted from a file
    ],
)
def test_check_secret_accepts_base64_keys(secret):
    check_secret(secret)


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "whsec_!!!!",
        "not base64!!",
        "whsec_not*base64*at#all",
        "whsec_hello world!",
        "whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),
        "whsec_" + base64.b64encode(b"x" * 32).decode() + "A",  # impossible length
        "whsec_abc",  # 2 bytes: far too short to be a key
        "whsec_" + base64.b64encode(b"x" * 16).decode(),  # below the 24-byte minimum
        "whsec_" + base64.b64encode(b"x" * 65).decode(),  # above the 64-byte maximum
    ],
)
def test_check_secret_rejects_non_base64_and_bad_lengths(secret):
    with pytest.raises(ValueError):
        check_secret(secret)


def test_surrounding_whitespace_in_secret_is_ignored_everywhere():
    padded = f"  {SECRET}\n"
    check_secret(padded)
    assert signed_headers(padded, MSG_ID, PAYLOAD, WHEN)["webhook-signature"] == SIGNATURE
    assert verify(padded, PAYLOAD.encode(), _fresh()) is True


def test_check_secret_error_does_not_echo_the_secret():
    secret = "whsec_hello world! topsecretvalue"
    with pytest.raises(ValueError) as info:
        check_secret(secret)
    assert "topsecretvalue" not in str(info.value)
    assert info.value.__cause__ is None or "topsecretvalue" not in str(info.value.__cause__)
