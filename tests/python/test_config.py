"""Configuration from the environment (the container path): every S3CORS_* variable of
docs/configuration.md, start-up state (buckets and their CORS rules), health, readiness, metrics, logs."""

import json
import os
import re
import subprocess
import threading

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import BIN


class EnvServer:
    """s3cors configured only through S3CORS_* variables."""

    def __init__(self, env):
        full = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
        full.update({"S3CORS_LISTEN": "127.0.0.1:0", **env})
        self.proc = subprocess.Popen([str(BIN)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full, text=True)
        first = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        if not match:
            self.proc.wait(timeout=10)
            raise RuntimeError(f"did not start: {self.proc.stderr.read()}")
        self.port = int(match.group(1))
        self.banner = first + "".join(self.proc.stdout.readline() for _ in range(5))
        self.stderr_lines = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, key="s3cors", secret="s3cors-secret", region="us-east-1"):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=region,
                            aws_access_key_id=key, aws_secret_access_key=secret)

    def stop(self):
        self.proc.terminate()
        return self.proc.wait(timeout=30)


def failed_start(env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
    full.update({"S3CORS_LISTEN": "127.0.0.1:0", "S3CORS_MEMORY": "true", **env})
    r = subprocess.run([str(BIN)], env=full, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    return r.stderr


def test_buckets_and_cors_from_the_environment(tmp_path):
    cors_file = tmp_path / "cors.json"
    cors_file.write_text(json.dumps({
        "uploads": {"CORSRules": [{"AllowedOrigins": ["http://localhost:3000"], "AllowedMethods": ["PUT", "GET"],
                                    "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"]}]},
        "assets": "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                  "<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    }))
    env = {
        "S3CORS_DATA_DIR": str(tmp_path / "data"),
        "S3CORS_BUCKETS": "uploads,assets,plain",
        "S3CORS_CORS_FILE": str(cors_file),
        "S3CORS_CORS": json.dumps({"plain": {"CORSRules": [{"AllowedOrigins": ["https://app.test"], "AllowedMethods": ["HEAD"]}]}}),
    }
    srv = EnvServer(env)
    try:
        s3 = srv.client()
        assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == ["assets", "plain", "uploads"]
        assert s3.get_bucket_cors(Bucket="uploads")["CORSRules"][0]["ExposeHeaders"] == ["ETag"]
        assert s3.get_bucket_cors(Bucket="plain")["CORSRules"][0]["AllowedMethods"] == ["HEAD"]
        r = requests.options(f"{srv.endpoint}/uploads/a.png", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT"})
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        r = requests.options(f"{srv.endpoint}/assets/x", headers={"Origin": "https://any", "Access-Control-Request-Method": "GET"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        s3.put_object(Bucket="plain", Key="kept", Body=b"1")
    finally:
        assert srv.stop() == 0
    # Idempotent: a restart with the same environment keeps the buckets and their objects.
    srv = EnvServer(env)
    try:
        assert srv.client().get_object(Bucket="plain", Key="kept")["Body"].read() == b"1"
    finally:
        srv.stop()


def test_an_invalid_cors_configuration_stops_start_up_naming_the_bucket(tmp_path):
    bad = json.dumps({"web": {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}})
    err = failed_start({"S3CORS_BUCKETS": "web", "S3CORS_CORS": bad})
    assert "bucket web: InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH" in err
    err = failed_start({"S3CORS_CORS": json.dumps({"ghost": {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}})})
    assert "bucket ghost: NoSuchBucket" in err
    err = failed_start({"S3CORS_BUCKETS": "Bad_Name"})
    assert "bucket Bad_Name: InvalidBucketName" in err
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[[account]]\nid = "1"\nname = "x"\naccess_key_id = "k"\nsecret_access_key = "s"\n')
    assert "12 digits" in failed_start({"S3CORS_ACCOUNTS": str(accounts)})
    assert "cannot read" in failed_start({"S3CORS_ACCOUNTS": str(tmp_path / "missing.toml")})


def test_credentials_region_domain_memory_and_logs_from_the_environment(tmp_path):
    srv = EnvServer({
        "S3CORS_MEMORY": "true",
        "S3CORS_DATA_DIR": str(tmp_path / "unused"),
        "S3CORS_REGION": "eu-central-1",
        "S3CORS_DOMAIN": "s3.test,localhost",
        "S3CORS_ACCESS_KEY_ID": "team-key",
        "S3CORS_SECRET_ACCESS_KEY": "team-secret",
        "S3CORS_ACCOUNT_ID": "123456789012",
        "S3CORS_LOG": "info",
        "S3CORS_LOG_FORMAT": "json",
        "S3CORS_SHUTDOWN_TIMEOUT": "2",
    })
    try:
        assert "team-key" in srv.banner and "eu-central-1" in srv.banner and "BUCKET.s3.test" in srv.banner
        s3 = srv.client("team-key", "team-secret", "eu-central-1")
        s3.create_bucket(Bucket="team", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        assert s3.list_buckets()["Owner"]["DisplayName"] == "123456789012"
        with pytest.raises(ClientError):
            srv.client("s3cors", "s3cors-secret", "eu-central-1").list_buckets()
        # Virtual-hosted on the first of the two domains: the bucket comes from the host.
        s3.put_object(Bucket="team", Key="vhost.txt", Body=b"via host")
        vhost = boto3.client("s3", endpoint_url=f"http://s3.test:{srv.port}", region_name="eu-central-1",
                             aws_access_key_id="team-key", aws_secret_access_key="team-secret",
                             config=Config(s3={"addressing_style": "virtual"}))
        import socket
        real = socket.getaddrinfo
        socket.getaddrinfo = lambda host, *a, **k: real("127.0.0.1" if host.endswith("s3.test") else host, *a, **k)
        try:
            assert vhost.get_object(Bucket="team", Key="vhost.txt")["Body"].read() == b"via host"
        finally:
            socket.getaddrinfo = real
        r = requests.get(f"{srv.endpoint}/_s3cors/health", headers={"Host": f"localhost:{srv.port}"})
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = requests.get(f"{srv.endpoint}/_s3cors/ready")
        assert r.status_code == 200 and r.json() == {"status": "ready"}
        requests.options(f"{srv.endpoint}/team/k", headers={"Origin": "http://a", "Access-Control-Request-Method": "GET"})
        metrics = requests.get(f"{srv.endpoint}/_s3cors/metrics").text
        assert 's3cors_requests_total{operation="CreateBucket",status="200"} 1' in metrics
        assert 's3cors_preflights_total{outcome="denied"} 1' in metrics
        assert "s3cors_request_duration_seconds_count" in metrics
    finally:
        assert srv.stop() == 0
    assert not (tmp_path / "unused").exists(), "memory mode writes nothing"
    logged = [json.loads(line) for line in srv.stderr_lines if line.startswith("{")]
    requests_logged = [l for l in logged if l.get("message") == "request"]
    assert any(l.get("op") == "CreateBucket" and l.get("status") == 200 and "request_id" in l
               and l.get("bucket") == "team" for l in requests_logged)
    assert any(l.get("op") == "PutObject" and l.get("key") == "vhost.txt" for l in requests_logged)
    assert any(l.get("op") == "Preflight" and l.get("cors") == "denied" for l in requests_logged)


def counter(text, name):
    return int(re.search(rf"^{name} (\d+)$", text, re.M).group(1))


def test_byte_counters_count_the_bodies_sent_and_received():
    """s3cors_response_bytes_total counts body bytes as they go on the wire: a GET from the memory
    store (whose length hyper writes from the body) counts its object, a HEAD nothing."""
    srv = EnvServer({"S3CORS_MEMORY": "true", "S3CORS_BUCKETS": "metered"})
    try:
        s3 = srv.client()
        s3.put_object(Bucket="metered", Key="k", Body=b"x" * 1000)
        first = requests.get(f"{srv.endpoint}/_s3cors/metrics")
        assert counter(first.text, "s3cors_request_bytes_total") >= 1000
        assert s3.get_object(Bucket="metered", Key="k")["Body"].read() == b"x" * 1000
        second = requests.get(f"{srv.endpoint}/_s3cors/metrics")
        sent = counter(second.text, "s3cors_response_bytes_total") - counter(first.text, "s3cors_response_bytes_total")
        # The object, and the first metrics document itself.
        assert sent == 1000 + len(first.content)
        assert s3.head_object(Bucket="metered", Key="k")["ContentLength"] == 1000
        third = requests.get(f"{srv.endpoint}/_s3cors/metrics")
        sent = counter(third.text, "s3cors_response_bytes_total") - counter(second.text, "s3cors_response_bytes_total")
        assert sent == len(second.content)
    finally:
        assert srv.stop() == 0


def test_sigterm_drains_in_flight_requests_within_the_shutdown_timeout(tmp_path):
    """A request still sending its body when SIGTERM arrives holds the server at most
    S3CORS_SHUTDOWN_TIMEOUT seconds; the server then exits 0."""
    import socket
    import time

    srv = EnvServer({"S3CORS_DATA_DIR": str(tmp_path / "d"), "S3CORS_BUCKETS": "slow", "S3CORS_SHUTDOWN_TIMEOUT": "1"})
    srv.client().put_bucket_acl(Bucket="slow", ACL="public-read-write")
    # An anonymous PUT the bucket allows, whose declared body never fully arrives: in flight.
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"PUT /slow/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\npartial")
    time.sleep(0.3)
    started = time.monotonic()
    assert srv.stop() == 0
    waited = time.monotonic() - started
    assert 0.8 < waited < 5, f"the server waited {waited:.2f}s for the in-flight request"
    s.close()
