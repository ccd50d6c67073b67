"""Crash safety: `kill -9` at random moments under concurrent writes, restart, and check that every
acknowledged write is there with its exact bytes, ETag and metadata, that nothing is torn or
half-visible, that deletes stay deleted and that a CORS configuration is the old or the new one.

Seeded and reproducible: S3CORS_CRASH_SEED (default 20261128) and S3CORS_CRASH_KILLS (default 24).
"""

import hashlib
import os
import random
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY, Server

SEED = int(os.environ.get("S3CORS_CRASH_SEED", "20261128"))
KILLS = int(os.environ.get("S3CORS_CRASH_KILLS", "24"))
WORKERS = 4
BUCKET = "crash"
ABSENT = None


def client(port):
    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=20, s3={"addressing_style": "path"}),
    )


def md5(data):
    return hashlib.md5(data).hexdigest()


class Model:
    """Per key, the states a reader may find: the last acknowledged one, plus the outcome of the one
    write that was in flight when the server died (which may or may not have landed)."""

    def __init__(self):
        self.possible = {}  # key -> list of states; a state is ABSENT or (md5, size, etag, meta)
        self.cors = [ABSENT]  # possible CORS rule ids
        self.lock = threading.Lock()
        self.acked = 0

    def states(self, key):
        return self.possible.get(key, [ABSENT])

    def ack(self, key, state):
        with self.lock:
            self.possible[key] = [state]
            self.acked += 1

    def in_flight(self, key, state):
        with self.lock:
            self.possible[key] = self.states(key) + [state]


def body(rng, size):
    return rng.randbytes(size)


def worker(port, w, rng, model, stop, cycle):
    s3 = client(port)
    keys = [f"w{w}/k{j}" for j in range(4)]
    n = 0
    while not stop.is_set():
        n += 1
        op = rng.choices(["small", "large", "multipart", "copy", "delete", "cors"], weights=[5, 2, 1, 2, 2, 1 if w == 0 else 0])[0]
        meta = {"cycle": str(cycle), "n": str(n)}
        try:
            if op in ("small", "large"):
                key = rng.choice(keys)
                data = body(rng, rng.randint(1, 64 << 10) if op == "small" else rng.randint(2 << 20, 6 << 20))
                state = (md5(data), len(data), f'"{md5(data)}"', meta)
                model.in_flight(key, state)
                s3.put_object(Bucket=BUCKET, Key=key, Body=data, Metadata=meta)
                model.ack(key, state)
            elif op == "multipart":
                key = f"w{w}/mp"
                parts = [body(rng, 5 << 20), body(rng, rng.randint(1, 1 << 20))]
                up = s3.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata=meta)["UploadId"]
                etags = []
                for i, p in enumerate(parts, 1):
                    etags.append(s3.upload_part(Bucket=BUCKET, Key=key, UploadId=up, PartNumber=i, Body=p)["ETag"])
                whole = b"".join(parts)
                digest = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in etags)).hexdigest()
                state = (md5(whole), len(whole), f'"{digest}-2"', meta)
                model.in_flight(key, state)
                s3.complete_multipart_upload(
                    Bucket=BUCKET,
                    Key=key,
                    UploadId=up,
                    MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e} for i, e in enumerate(etags, 1)]},
                )
                model.ack(key, state)
            elif op == "copy":
                src, dst = rng.sample(keys, 2)
                with model.lock:
                    known = model.states(src)
                if len(known) != 1 or known[0] is ABSENT:
                    continue
                model.in_flight(dst, known[0])
                s3.copy_object(Bucket=BUCKET, Key=dst, CopySource={"Bucket": BUCKET, "Key": src})
                model.ack(dst, known[0])
            elif op == "delete":
                chosen = rng.sample(keys, rng.randint(1, 3))
                for k in chosen:
                    model.in_flight(k, ABSENT)
                s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in chosen]})
                for k in chosen:
                    model.ack(k, ABSENT)
            elif op == "cors":
                if rng.random() < 0.3:
                    with model.lock:
                        model.cors = model.cors + [ABSENT]
                    s3.delete_bucket_cors(Bucket=BUCKET)
                    rule_id = ABSENT
                else:
                    rule_id = f"c{cycle}-{n}"
                    with model.lock:
                        model.cors = model.cors + [rule_id]
                    s3.put_bucket_cors(
                        Bucket=BUCKET,
                        CORSConfiguration={
                            "CORSRules": [{"ID": rule_id, "AllowedOrigins": [f"http://{rule_id}.example"], "AllowedMethods": ["GET"]}]
                        },
                    )
                with model.lock:
                    model.cors = [rule_id]
                    model.acked += 1
        except Exception:  # noqa: BLE001 - the server was killed under this request
            return


def verify(port, model, data_dir):
    s3 = client(port)
    # No stray temporary files once the server is up.
    assert not any((data_dir / "tmp").iterdir()), list((data_dir / "tmp").iterdir())
    listed = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for o in page.get("Contents", []):
            listed[o["Key"]] = o
    keys = set(model.possible) | set(listed)
    for key in sorted(keys):
        try:
            got = s3.get_object(Bucket=BUCKET, Key=key)
            data = got["Body"].read()
            state = (md5(data), len(data), got["ETag"], got["Metadata"])
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NoSuchKey"
            state = ABSENT
        assert state in model.states(key), f"{key}: found {state and state[:3]}, possible {model.states(key)}"
        # Listing and reading agree: nothing half-visible.
        if state is ABSENT:
            assert key not in listed, key
        else:
            assert key in listed and listed[key]["Size"] == state[1] and listed[key]["ETag"] == state[2], key
        model.possible[key] = [state]
    try:
        rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
        found = rules[0]["ID"]
    except ClientError as e:
        assert e.response["Error"]["Code"] == "NoSuchCORSConfiguration"
        found = ABSENT
    assert found in model.cors, (found, model.cors)
    model.cors = [found]


def test_kill_9_under_concurrent_writes_loses_nothing_acknowledged(tmp_path):
    data_dir = tmp_path / "data"
    rng = random.Random(SEED)
    model = Model()
    server = Server(data_dir)
    client(server.port).create_bucket(Bucket=BUCKET)
    for cycle in range(KILLS):
        stop = threading.Event()
        threads = [
            threading.Thread(target=worker, args=(server.port, w, random.Random(rng.random()), model, stop, cycle))
            for w in range(WORKERS)
        ]
        for t in threads:
            t.start()
        time.sleep(rng.uniform(0.2, 1.5))
        server.proc.kill()  # SIGKILL, mid-request
        server.proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive()
        server = Server(data_dir)  # must start cleanly on what the kill left
        verify(server.port, model, data_dir)
    assert server.stop() == 0
    print(f"seed {SEED}: {KILLS} kills, {model.acked} acknowledged writes verified")
    assert model.acked > KILLS * 5
