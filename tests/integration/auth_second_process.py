"""A second server process for tests/integration/test_auth_store.py.

Started as ``python auth_second_process.py DATABASE_URL SIGNING_SECRET``; it holds an
ApiKeyAuthenticator, a SessionAuthenticator and a started RevocationList, as a
server would, then answers one line per line read on stdin:

    apikey <key>        -> "ok <subject>" or "error <message>"
    bearer <token>      -> the same, for a session access token
    jti <jti>           -> "revoked" or "valid" (the RevocationList's in-memory answer)

It prints "ready" once the revocation list is loaded.
"""

from __future__ import annotations

import asyncio
import sys

from fraiseql.auth.api_keys import ApiKeyAuthenticator
from fraiseql.auth.principal import AuthenticationError, Authenticator
from fraiseql.auth.revocation import RevocationList
from fraiseql.auth.sessions import AccessTokens, SessionAuthenticator, SessionStore


async def answer(authenticator: Authenticator, headers: dict[str, str]) -> str:
    try:
        principal = await authenticator.authenticate(headers)
    except AuthenticationError as exc:
        return f"error {exc.message}"
    return f"ok {principal.subject}" if principal else "none"


async def main(url: str, secret: str) -> None:
    revocations = RevocationList(url)
    await revocations.start()
    api_keys = ApiKeyAuthenticator(url)
    sessions = SessionAuthenticator(SessionStore(url), AccessTokens(secret), revocations)
    print("ready" if revocations.loaded else "not loaded", flush=True)
    loop = asyncio.get_running_loop()
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        what, _, value = line.partition(" ")
        if what == "apikey":
            reply = await answer(api_keys, {"x-api-key": value})
        elif what == "bearer":
            reply = await answer(sessions, {"authorization": f"Bearer {value}"})
        else:
            reply = "revoked" if revocations.is_revoked(value) else "valid"
        print(reply, flush=True)
    await revocations.stop()
    await api_keys.close()
    await sessions.store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
