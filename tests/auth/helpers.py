"""Test helpers for auth: signing keys, hand-made tokens, the oidc-provider server, GitHub."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

import httpx
import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
HMAC_SECRET = os.urandom(64)


@dataclass
class SigningKey:
    """A private key, its JWK (private, for oidc-provider) and its public forms."""

    alg: str
    private: Any
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def public(self) -> Any:
        return self.private.public_key()

    @property
    def public_pem(self) -> bytes:
        return bytes(self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ))

    def jwk(self, *, private: bool) -> dict[str, Any]:
        algorithm = pyjwt.get_algorithm_by_name(self.alg)
        key = self.private if private else self.public
        data: dict[str, Any] = algorithm.to_jwk(key, as_dict=True)
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return pyjwt.encode(claims, self.private, algorithm=self.alg,
                            headers={"kid": self.kid, **header})


def make_key(alg: str) -> SigningKey:
    if alg.startswith(("RS", "PS")):
        return SigningKey(alg, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if alg == "ES256":
        return SigningKey(alg, ec.generate_private_key(ec.SECP256R1()))
    if alg == "ES384":
        return SigningKey(alg, ec.generate_private_key(ec.SECP384R1()))
    if alg == "EdDSA":
        return SigningKey(alg, ed25519.Ed25519PrivateKey.generate())
    raise ValueError(alg)


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk(private=False) for k in keys]}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """A token assembled by hand (for forged or broken tokens)."""
    return ".".join([
        b64url(json.dumps(header).encode()), b64url(json.dumps(claims).encode()), b64url(signature)
    ])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class IssuerSpec:
    """One issuer of the oidc-provider server, mounted under the path of its issuer URL."""

    mount: str
    keys: list[SigningKey]
    clients: dict[str, dict[str, Any]]  # client_id -> claims merged into its tokens
    audience: str = "https://api.test"
    scope: str = "read write"
    ttl: int = 300
    # Browser login clients: client_id -> {"redirect_uris": [...], "public": bool}, and the
    # users' ID token claims (sub -> claims) they log in as.
    login_clients: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def config(self, port: int) -> dict[str, Any]:
        return {
            "mount": self.mount,
            "issuer": self.issuer(port),
            "keys": [k.jwk(private=True) for k in self.keys],
            "alg": self.keys[0].alg,
            "audience": self.audience,
            "scope": self.scope,
            "ttl": self.ttl,
            "clients": [
                {"client_id": cid, "client_secret": f"secret-{cid}-0123456789abcdef",
                 "claims": claims}
                for cid, claims in self.clients.items()
            ] + [
                {"client_id": cid, "client_secret": f"secret-{cid}-0123456789abcdef", **options}
                for cid, options in self.login_clients.items()
            ],
            "accounts": self.accounts,
        }

    def issuer(self, port: int) -> str:
        return f"http://127.0.0.1:{port}{self.mount}"


class OIDCServer:
    """npm oidc-provider on a loopback port (tests/auth/oidc/server.mjs), stopped by PID."""

    def __init__(self, issuers: list[IssuerSpec], port: int | None = None) -> None:
        self.issuers = issuers
        self.port = port or free_port()
        self.process: subprocess.Popen[str] | None = None
        self._config_dir = ""

    def issuer(self, mount: str) -> str:
        return f"http://127.0.0.1:{self.port}{mount}"

    def start(self) -> None:
        node = shutil.which("node")
        if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError("run `npm ci` in tests/auth/oidc (scripts/_setup.sh does)")
        self._config_dir = tempfile.mkdtemp(prefix="fraiseql-oidc-")  # holds private keys
        config = Path(self._config_dir) / "config.json"
        config.write_text(json.dumps(
            {"port": self.port, "issuers": [i.config(self.port) for i in self.issuers]}
        ))
        log = Path(self._config_dir) / "stderr.log"
        with log.open("ab") as stderr:  # a file, so a chatty server can never block on a pipe
            self.process = subprocess.Popen(
                [node, str(OIDC_DIR / "server.mjs"), str(config)], cwd=OIDC_DIR,
                stdout=subprocess.PIPE, stderr=stderr, text=True,
            )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else ""
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"oidc-provider did not start: {line!r} {log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None
        if self._config_dir:
            shutil.rmtree(self._config_dir, ignore_errors=True)
            self._config_dir = ""

    def token(self, spec: IssuerSpec, client_id: str) -> str:
        """A real access token from the client credentials grant."""
        issuer = spec.issuer(self.port)
        discovery = httpx.get(issuer.rstrip("/") + "/.well-known/openid-configuration").json()
        response = httpx.post(discovery["token_endpoint"], data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": f"secret-{client_id}-0123456789abcdef",
            "resource": spec.audience,
            "scope": spec.scope,
        })
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


# --- a loopback GitHub API -----------------------------------------------------------------

GITHUB_USER = {  # the documented shape of GET /user (abridged)
    "login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==", "type": "User",
    "site_admin": False, "name": "The Octocat", "company": "@github",
    "email": "octocat@github.com", "avatar_url": "https://avatars.githubusercontent.com/u/583231",
}


def github_team(slug: str, org: str, team_id: int) -> dict[str, Any]:
    """The documented shape of one item of GET /user/teams (abridged)."""
    return {
        "id": team_id, "node_id": "MDQ6VGVhbTE=", "name": slug.replace("-", " ").title(),
        "slug": slug, "description": "", "privacy": "closed", "permission": "pull",
        "organization": {"login": org, "id": 9919, "node_id": "MDEyOk9yZ2FuaXphdGlvbjE="},
    }


class _LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) for one ``with`` block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeGitHub(_LoopbackServer):
    """GET /user, /user/teams, /user/orgs on loopback, answered for known tokens only."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users  # token -> {"user": ..., "teams": [...], "orgs": [...], "scopes": str}
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append(self.path)
                auth = self.headers.get("authorization", "")
                account = fake.users.get(auth.removeprefix("Bearer "))
                path = self.path.split("?")[0]
                if account is None:
                    self._send(401, {"message": "Bad credentials"})
                elif path == "/user":
                    self._send(200, account["user"], {"X-OAuth-Scopes": account.get("scopes", "")})
                elif path == "/user/teams":
                    self._send(200, account.get("teams", []))
                elif path == "/user/orgs":
                    self._send(200, account.get("orgs", []))
                else:
                    self._send(404, {"message": "Not Found"})

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)


class JSONServer(_LoopbackServer):
    """Serves fixed JSON documents on loopback (path -> document), for hand-made providers."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document = owner.documents.get(self.path)
                data = document if isinstance(document, bytes) else json.dumps(document).encode()
                self.send_response(404 if document is None else 200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(Handler)
