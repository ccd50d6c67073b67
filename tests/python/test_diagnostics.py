"""CORS lint findings are logged when PutBucketCors accepts a configuration (boto3, the seed's call)."""

import os
import re
import signal
import subprocess

import boto3
from botocore.config import Config

from conftest import ACCESS_KEY, BIN, SECRET_KEY


def test_put_bucket_cors_logs_lint_findings_as_warnings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("S3CORS_")}
    proc = subprocess.Popen(
        [str(BIN), "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data"), "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        port = re.search(r":(\d+)", proc.stdout.readline()).group(1)
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 1}),
        )
        s3.create_bucket(Bucket="web")
        # Accepted, as S3 accepts it — but PUT without ETag exposed cannot finish a browser multipart upload.
        s3.put_bucket_cors(
            Bucket="web",
            CORSConfiguration={
                "CORSRules": [
                    {"ID": "uploads", "AllowedOrigins": ["http://localhost:3000"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}
                ]
            },
        )
        assert s3.get_bucket_cors(Bucket="web")["CORSRules"][0]["ID"] == "uploads"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    warnings = [line for line in err.splitlines() if '"level":"WARN"' in line and "CORS configuration" in line]
    findings = {re.search(r'"finding":"([^"]+)"', w).group(1) for w in warnings}
    assert findings == {"etag-not-exposed", "loopback-look-alike"}, err
    assert all('"bucket":"web"' in w and '"rule":1' in w and '"id":"uploads"' in w for w in warnings), warnings
