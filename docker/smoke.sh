#!/usr/bin/env bash
# Builds the container image from docker/Dockerfile, unchanged, and smoke-tests it for real, on a
# machine with no Docker engine and no container registry: podman with runc, base images made locally
# (mmdebstrap) under the names the Dockerfile uses, crates fetched on the host and mounted read-only
# into a network-less build. Then: run, wait for healthy, drive it with boto3 over loopback (bucket,
# PutBucketCors, a preflight, PUT/GET), restart on the same volume and read back, SIGTERM and a clean
# exit, and print the image size.
#
# Usage: docker/smoke.sh [PYTHON]   (PYTHON: an interpreter with boto3; default .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${1:-$root/.venv/bin/python}
work=${S3CORS_CONTAINER_WORK:-/var/tmp/s3cors-container}
image=localhost/s3cors:smoke
name=s3cors-smoke
volume=s3cors-smoke-data
mkdir -p "$work"

step() { printf '\n==> %s\n' "$*"; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

step "podman, runc, mmdebstrap"
if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v runc >/dev/null; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq podman runc netavark iptables mmdebstrap \
    ca-certificates >/dev/null
fi
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=20000
[ "$nofile" -gt 20000 ] && nofile=20000
cat >"$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
cat >"$work/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$work/storage"
runroot = "$work/run"
CONF
export CONTAINERS_CONF="$work/containers.conf" CONTAINERS_STORAGE_CONF="$work/storage.conf"
# Without systemd podman logs that it cannot schedule health checks; they are run by hand below.
podman() { command podman "$@" 2> >(grep -v 'systemd' >&2); }

mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 | awk '{print $2}')
mirror=${mirror:-http://deb.debian.org/debian}
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  step "base image debian:bookworm-slim (mmdebstrap)"
  mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm - "deb $mirror bookworm main" | podman import -q - docker.io/library/debian:bookworm-slim >/dev/null
fi
if ! podman image exists docker.io/library/rust:1.95-bookworm; then
  step "builder image rust:1.95-bookworm (this machine's toolchain)"
  stage="$work/rust-stage"
  rm -rf "$stage" && mkdir -p "$stage/toolchain" "$stage/cargo-bin"
  sysroot=$(rustc --print sysroot)
  # Hard links where the filesystem allows: the toolchain is not copied a second time on disk.
  cp -al "$sysroot/." "$stage/toolchain/" 2>/dev/null || cp -a "$sysroot/." "$stage/toolchain/"
  rm -rf "$stage/toolchain/share/doc"
  for tool in cargo rustc rustdoc; do ln -sf "/usr/local/rustup/toolchains/host/bin/$tool" "$stage/cargo-bin/$tool"; done
  chmod -R a+rX "$stage"
  cat >"$stage/Containerfile" <<'CF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev make pkg-config ca-certificates >/dev/null \
 && rm -rf /var/lib/apt/lists/*
COPY toolchain /usr/local/rustup/toolchains/host
COPY cargo-bin /usr/local/cargo/bin
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CF
  podman build -q --pull=never -t docker.io/library/rust:1.95-bookworm "$stage" >/dev/null
  rm -rf "$stage"
fi

step "image from docker/Dockerfile (offline build, crates from the host)"
cargo fetch --locked >/dev/null
registry=${CARGO_HOME:-$HOME/.cargo}/registry
podman build --format docker --pull=never --network none \
  -v "$registry:/usr/local/cargo/registry:ro" -t "$image" -f docker/Dockerfile . 2>&1 | tail -n 3
size=$(podman image inspect --format '{{.Size}}' "$image")

cleanup() { podman rm -f "$name" >/dev/null 2>&1 || true; podman volume rm -f "$volume" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

start() {
  podman run -d --name "$name" -p "127.0.0.1:$port:9000" -v "$volume:/data" \
    -e S3CORS_BUCKETS=smoke "$image" >/dev/null
  for _ in $(seq 1 100); do
    if podman healthcheck run "$name" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  podman logs "$name"
  echo "the container did not become healthy" >&2
  return 1
}

step "run and wait for healthy"
start
step "boto3 over loopback: bucket, PutBucketCors, preflight, PUT/GET"
"$python" - "$port" write <<'PY'
import sys, boto3, urllib.request
port, mode = sys.argv[1], sys.argv[2]
endpoint = f"http://127.0.0.1:{port}"
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="s3cors", aws_secret_access_key="s3cors-secret")
if mode == "write":
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["smoke"], "S3CORS_BUCKETS"
    s3.put_bucket_cors(Bucket="smoke", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://localhost:3000"], "AllowedMethods": ["PUT", "GET"], "AllowedHeaders": ["*"]}]})
    req = urllib.request.Request(f"{endpoint}/smoke/hello.txt", method="OPTIONS", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 200 and r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    s3.put_object(Bucket="smoke", Key="hello.txt", Body=b"hello from the container")
body = s3.get_object(Bucket="smoke", Key="hello.txt")["Body"].read()
assert body == b"hello from the container", body
assert s3.get_bucket_cors(Bucket="smoke")["CORSRules"][0]["AllowedMethods"] == ["PUT", "GET"]
print(f"boto3 {mode}: ok")
PY

step "restart on the same volume and read back"
podman stop -t 10 "$name" >/dev/null
podman rm "$name" >/dev/null
start
"$python" - "$port" read <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="s3cors", aws_secret_access_key="s3cors-secret")
assert s3.get_object(Bucket="smoke", Key="hello.txt")["Body"].read() == b"hello from the container"
assert s3.get_bucket_cors(Bucket="smoke")["CORSRules"][0]["AllowedOrigins"] == ["http://localhost:3000"]
print("boto3 read after restart: ok")
PY

step "SIGTERM and a clean exit"
podman stop -t 10 "$name" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
user=$(podman image inspect --format '{{.Config.User}}' "$image")
[ "$code" = 0 ] || { echo "exit code $code after SIGTERM" >&2; exit 1; }
[ "$user" = "65532:65532" ] || { echo "image user is $user" >&2; exit 1; }
echo "exit code after SIGTERM: $code; runs as $user"
echo "image size: $((size / 1024 / 1024)) MiB ($size bytes)"
[ "$size" -le $((30 * 1024 * 1024)) ] || { echo "image larger than 30 MiB" >&2; exit 1; }
echo "container smoke: 1 passed, 0 failed"
