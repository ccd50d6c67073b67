"""Fixtures that start the real s3cors binary on a free loopback port and point boto3 at it."""

import os
import pathlib
import re
import signal
import socket
import subprocess
import threading

import boto3
import pytest
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("S3CORS_BIN", ROOT / "target" / "debug" / "s3cors"))
ACCESS_KEY = "s3cors"
SECRET_KEY = "s3cors-secret"


class Server:
    """A running s3cors process on 127.0.0.1:<free port>."""

    def __init__(self, data_dir, *extra):
        if not BIN.exists():
            raise RuntimeError(f"{BIN} is missing: build it with `cargo build -p s3cors` first")
        self.data_dir = pathlib.Path(data_dir)
        env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
        self.proc = subprocess.Popen(
            [str(BIN), "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir), *extra],
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        first = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"unexpected banner: {first!r}")
        self.port = int(match.group(1))
        # Drain the rest of stdout so the server never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, addressing_style="path", signature_version=None, **config):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint if addressing_style == "path" else f"http://localhost:{self.port}",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": addressing_style},
                retries={"max_attempts": 1},
                signature_version=signature_version,
                **config,
            ),
        )

    def resource(self):
        return boto3.resource(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def signed(self, method, path, headers=None, body=b""):
        """A raw request signed with SigV4 by botocore's signer, sent with `requests`."""
        import requests
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        request = AWSRequest(method=method, url=f"{self.endpoint}{path}", data=body, headers=dict(headers or {}))
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(request)
        prepared = request.prepare()
        return requests.request(method, prepared.url, headers=dict(prepared.headers), data=body)

    def stop(self):
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "data")
    yield s
    s.stop()


@pytest.fixture
def s3(server):
    return server.client()


@pytest.fixture(autouse=True, scope="session")
def localhost_subdomains_resolve():
    """`BUCKET.localhost` resolves to loopback in browsers and systemd-resolved, not in this libc:
    make it so for this process, so that virtual-hosted requests reach the server unchanged."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    yield
    socket.getaddrinfo = real


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def status(excinfo):
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
