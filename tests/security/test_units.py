"""TOTP against RFC 6238 Appendix B and RFC 4226 Appendix D, password rules, token buckets."""

from __future__ import annotations

import hmac
import struct
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelproof.errors import InvalidInput
from labelproof.services.security import passwords, totp
from labelproof.services.security.ratelimit import RateLimited, TokenBuckets

SEED_SHA1 = b"12345678901234567890"
SEED_SHA256 = b"12345678901234567890123456789012"
SEED_SHA512 = b"1234567890" * 6 + b"1234"

#: RFC 6238 Appendix B: (unix time, SHA-1, SHA-256, SHA-512) with 8 digits.
RFC6238 = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]
#: RFC 4226 Appendix D: HOTP of the SHA-1 seed, counters 0..9.
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
           "399871", "520489"]  # fmt: skip


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), RFC6238)
def test_rfc6238_appendix_b(at: int, sha1: str, sha256: str, sha512: str) -> None:
    assert totp.totp(SEED_SHA1, at, digits=8) == sha1
    assert totp.totp(SEED_SHA256, at, digits=8, algorithm="sha256") == sha256
    assert totp.totp(SEED_SHA512, at, digits=8, algorithm="sha512") == sha512
    assert totp.totp(SEED_SHA1, at) == sha1[-6:]  # the 6-digit profile is the last 6


def test_rfc4226_appendix_d() -> None:
    assert [totp.hotp(SEED_SHA1, c) for c in range(10)] == RFC4226


def _reference_hotp(key: bytes, counter: int) -> str:
    mac = hmac.digest(key, counter.to_bytes(8, "big"), "sha1")
    o = mac[19] & 15
    value = (int.from_bytes(mac[o : o + 4], "big") & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


@given(st.binary(min_size=1, max_size=64), st.integers(0, 2**64 - 1))
def test_hotp_matches_a_literal_reference(key: bytes, counter: int) -> None:
    assert totp.hotp(key, counter) == _reference_hotp(key, counter)


def test_verify_window_and_replay() -> None:
    now = 1_700_000_000.0
    step = totp.step_at(now)
    assert step == 56_666_666
    code = totp.totp(SEED_SHA1, now)
    assert totp.verify(SEED_SHA1, code, now) == step
    assert totp.verify(SEED_SHA1, code[:3] + " " + code[3:], now) == step
    # one step either side is accepted, two are not
    assert totp.verify(SEED_SHA1, totp.totp(SEED_SHA1, now - 30), now) == step - 1
    assert totp.verify(SEED_SHA1, totp.totp(SEED_SHA1, now + 30), now) == step + 1
    assert totp.verify(SEED_SHA1, totp.totp(SEED_SHA1, now - 60), now) is None
    assert totp.verify(SEED_SHA1, totp.totp(SEED_SHA1, now + 60), now) is None
    # replay: a step at or before the last accepted one is refused
    assert totp.verify(SEED_SHA1, code, now, last_step=step) is None
    assert totp.verify(SEED_SHA1, totp.totp(SEED_SHA1, now - 30), now, last_step=step) is None
    assert totp.verify(SEED_SHA1, totp.totp(SEED_SHA1, now + 30), now, last_step=step) == step + 1
    for junk in ("", "12345", "1234567", "abcdef", "12345a"):
        assert totp.verify(SEED_SHA1, junk, now) is None


def test_secret_base32_and_uri() -> None:
    secret = totp.new_secret()
    assert len(secret) == 20
    text = totp.to_base32(secret)
    assert len(text) == 32 and "=" not in text
    assert totp.from_base32(text.lower()) == secret
    assert totp.to_base32(SEED_SHA1) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    uri = totp.otpauth_uri(SEED_SHA1, account="ann@org.test")
    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc, parsed.path) == (
        "otpauth",
        "totp",
        "/labelproof:ann@org.test",
    )
    assert parse_qs(parsed.query) == {
        "secret": ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"],
        "issuer": ["labelproof"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    with pytest.raises(InvalidInput, match="not base32"):
        totp.from_base32("not base32!")


@pytest.mark.parametrize(
    ("password", "email", "message"),
    [
        ("short", None, r"at least 12 characters \(got 5\)"),
        ("ann@org.test", "ann@org.test", "not be your email"),
        ("Ann.Smith@Org.Test", "ann.smith@org.test", "not be your email"),
        ("annsmithlong", "AnnSmithLong@org.test", "not be your email"),
        ("Password1234", None, "most common"),
        ("QWERTYUIOPASDFGHJKL", None, "most common"),
        ("1q2w3e4r5t6y", None, "most common"),
        ("zzzzzzzzzzzzzzzz", None, "most common"),
        ("x" * 1001, None, "at most 1000"),
    ],
)
def test_password_rules(password: str, email: str | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        passwords.check_password(password, email=email)
    assert info.value.field == "password"


def test_good_passwords_pass_and_the_list_is_about_a_hundred_and_forty() -> None:
    for good in ("correct horse battery staple", "tarn-ledger-47-quince", "ann.smith@org.test1"):
        passwords.check_password(good, email="ann.smith@org.test")
    listed = passwords.common_passwords()
    assert 100 <= len(listed) <= 200
    assert "password" in listed and "123456789012" in listed
    assert all(s == s.lower() and s.strip() == s for s in listed)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_refill_and_retry_after() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=3, per_minute=6, clock=clock)  # one token per 10 s
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(10.0)
    clock.now += 4
    assert buckets.take("a") == pytest.approx(6.0)
    with pytest.raises(RateLimited) as info:
        buckets.check("a", scope="account")
    assert info.value.retry_after == 6 and info.value.scope == "account"
    assert info.value.to_dict()["code"] == "rate_limited"
    clock.now += 6
    assert buckets.take("a") == 0.0  # one token came back
    assert buckets.take("b") == 0.0  # other keys are independent
    clock.now += 1000
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refilled to capacity, not beyond


def test_token_buckets_memory_is_bounded() -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=2, per_minute=1, max_keys=100, clock=clock)
    buckets.take("victim")
    buckets.take("victim")
    for i in range(10_000):
        buckets.take(f"k{i}")
        assert len(buckets) <= 100
    # buckets that refilled completely (they remember nothing) are dropped first: a drained
    # bucket outlives keys that were used once and have refilled since
    clock.now += 10_000
    buckets.take("victim")
    buckets.take("victim")
    for i in range(99):
        buckets.take(f"once{i}")
    assert len(buckets) == 100
    clock.now += 61  # the single-use buckets are full again; the victim's holds 1 of 2
    buckets.take("newcomer")
    assert len(buckets) == 2
    assert buckets.take("victim") == 0.0 and buckets.take("victim") > 0  # remembered


@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 30)), max_size=60))
def test_never_more_than_capacity_plus_refill(events: list[tuple[str, float]]) -> None:
    clock = Clock()
    buckets = TokenBuckets(capacity=4, per_minute=60, clock=clock)
    allowed: dict[str, int] = {}
    start = clock.now
    for key, gap in events:
        clock.now += gap
        if buckets.take(key) == 0.0:
            allowed[key] = allowed.get(key, 0) + 1
    elapsed = clock.now - start
    for n in allowed.values():
        assert n <= 4 + elapsed * 1.0 + 1e-9


def test_hotp_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInput, match="counter"):
        totp.hotp(SEED_SHA1, -1)
    with pytest.raises(InvalidInput, match="digits"):
        totp.hotp(SEED_SHA1, 0, digits=5)
    assert struct.calcsize(">Q") == 8
