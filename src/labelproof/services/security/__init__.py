"""Account security: TOTP second factor, password rules, sign-in rate limits, sessions.

- ``totp``: RFC 6238 codes (pure, standard library only).
- ``passwords``: the password rules and the bundled list of common passwords.
- ``ratelimit``: in-memory token buckets with bounded memory.
- ``events``: the audit actions these controls record.
"""
