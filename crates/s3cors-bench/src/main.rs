//! The s3cors benchmark runner (docs/performance.md). Starts the ceiling server and s3cors pinned to
//! core 0, drives them with `wrk` pinned to core 1, alternating ceiling and s3cors runs so that machine
//! noise hits both, and reports for each workload the 2xx requests per CPU-second of the server process
//! (from `/proc/PID/stat`) as a ratio to the ceiling's, beside raw requests per second and latency.
//!
//! `tests/bench/run [--rounds N] [--seconds S] [--json FILE]`
//!
//! With `--instructions`, the servers run under callgrind instead and each workload reports the
//! instructions the server executes per answer (user space only): a figure that machine noise does not
//! move, for telling whether a change made the request path cheaper.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use s3cors_proto::sigv4::{self, CanonicalInput, Credential};

mod soak;

const KEY: &str = "s3cors";
const SECRET: &str = "s3cors-secret";
const ORIGIN: &str = "http://localhost:3000";
const ACRH: &str = "content-type,x-amz-date,authorization,x-amz-content-sha256";

/// A server process pinned to core 0.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(bin: &Path, args: &[&str]) -> Server {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0"]).arg(bin);
        Self::spawn(cmd, bin, args)
    }

    /// Under callgrind, counting nothing until [`Server::count`] turns it on; dumps go to `out`.
    fn start_counted(bin: &Path, args: &[&str], out: &Path) -> Server {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0", "valgrind", "--tool=callgrind", "--instr-atstart=no"])
            .arg(format!("--callgrind-out-file={}/callgrind.%p", out.display()))
            .arg(bin);
        Self::spawn(cmd, bin, args)
    }

    fn spawn(mut cmd: Command, bin: &Path, args: &[&str]) -> Server {
        let mut child = cmd
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut first = String::new();
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut first).expect("banner");
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let port = first
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in banner");
        Server { child, port }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn callgrind_control(&self, arg: &str) {
        let status = Command::new("callgrind_control")
            .arg(arg)
            .arg(self.pid().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("callgrind_control (valgrind)");
        assert!(status.success(), "callgrind_control {arg}");
    }

    /// Instructions executed during `run` (a server from [`Server::start_counted`], whose dumps are
    /// in `out`), after a warm-up run.
    /// With `keep`, the dump is also copied there for `callgrind_annotate`.
    fn count(&self, out: &Path, keep: Option<&Path>, run: impl Fn() -> Sample) -> (Sample, f64) {
        self.callgrind_control("--instr=on");
        run();
        self.callgrind_control("--zero");
        let sample = run();
        self.callgrind_control("--dump");
        self.callgrind_control("--instr=off");
        // Each dump is a new file `callgrind.PID.N`; the newest is this one.
        let prefix = format!("callgrind.{}.", self.pid());
        let newest = std::fs::read_dir(out)
            .expect("callgrind dir")
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_prefix(&prefix)?
                    .parse::<u32>()
                    .ok()
                    .map(|n| (n, e.path()))
            })
            .max()
            .expect("a callgrind dump");
        let text = std::fs::read_to_string(&newest.1).expect("read dump");
        if let Some(keep) = keep {
            std::fs::write(keep, &text).expect("keep dump");
        }
        let instructions = text
            .lines()
            .find_map(|l| l.strip_prefix("summary: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("summary line in the dump");
        (sample, instructions)
    }

    /// (user, system) CPU seconds of the process.
    fn cpu(&self) -> (f64, f64) {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("stat");
        let rest = stat.rsplit_once(") ").map(|(_, r)| r).expect("stat format");
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| f[i].parse::<u64>().expect("utime and stime") as f64 / 100.0;
        (ticks(11), ticks(12))
    }

    /// (current, peak) resident set size in KiB.
    fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

/// The run's scratch directory (data directories, the `wrk` script), removed when the run ends,
/// also when it ends in a panic (a closed stdout, a failed request).
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// The `X-Amz-Date` of `now` (`YYYYMMDDTHHMMSSZ`); its first eight characters are the scope's date.
fn amz_date(now: SystemTime) -> String {
    let dt = s3cors_proto::http::iso8601(now);
    format!(
        "{}{}{}T{}{}{}Z",
        &dt[0..4],
        &dt[5..7],
        &dt[8..10],
        &dt[11..13],
        &dt[14..16],
        &dt[17..19]
    )
}

/// The benchmark account's credential for the date of `amz`.
fn credential(amz: &str) -> Credential<'_> {
    Credential {
        access_key_id: KEY,
        date: &amz[..8],
        region: "us-east-1",
        service: "s3",
    }
}

/// A presigned URL (path and query) for `method` on `path`.
fn presign(port: u16, method: &str, path: &str) -> String {
    presign_query(port, method, path, "")
}

/// A presigned URL for `method` on `path` with the (canonically encoded) parameters `extra`.
fn presign_query(port: u16, method: &str, path: &str, extra: &str) -> String {
    let amz = amz_date(SystemTime::now());
    let c = credential(&amz);
    let cred = format!("{KEY}%2F{}%2Fus-east-1%2Fs3%2Faws4_request", c.date);
    let sep = if extra.is_empty() { "" } else { "&" };
    let query = format!(
        "{extra}{sep}X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={cred}&X-Amz-Date={amz}&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    );
    let host = format!("127.0.0.1:{port}");
    let input = CanonicalInput {
        method,
        raw_path: path,
        raw_query: &query,
    };
    let cr = sigv4::canonical_request(&input, "host", |_| vec![host.as_str()], "UNSIGNED-PAYLOAD");
    let sig = sigv4::signing_key(SECRET, &c).sign(&sigv4::string_to_sign(&amz, &c, &cr));
    format!("{path}?{query}&X-Amz-Signature={sig}")
}

/// Headers of a request signed with SigV4 in the `Authorization` header (unsigned payload).
fn signed(port: u16, method: &str, path: &str, query: &str) -> Vec<(String, String)> {
    let amz = amz_date(SystemTime::now());
    let c = credential(&amz);
    let names = ["host", "x-amz-content-sha256", "x-amz-date"];
    let values = [
        format!("127.0.0.1:{port}"),
        "UNSIGNED-PAYLOAD".to_owned(),
        amz.clone(),
    ];
    let input = CanonicalInput {
        method,
        raw_path: path,
        raw_query: query,
    };
    let value = |n: &str| {
        names
            .iter()
            .position(|x| *x == n)
            .map(|i| vec![values[i].as_str()])
            .unwrap_or_default()
    };
    let cr = sigv4::canonical_request(&input, &names.join(";"), value, "UNSIGNED-PAYLOAD");
    let sig = sigv4::signing_key(SECRET, &c).sign(&sigv4::string_to_sign(&amz, &c, &cr));
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={KEY}/{}/us-east-1/s3/aws4_request, SignedHeaders={}, Signature={sig}",
        c.date,
        names.join(";")
    );
    vec![
        ("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
        ("x-amz-date".into(), amz),
        ("authorization".into(), auth),
    ]
}

/// One request over a fresh connection; the status line's code and the whole response head.
fn request(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, head)
}

/// Creates `bucket` (if needed) and a 1 KiB and (with `large`) a 64 MiB object in it.
fn seed(port: u16, bucket: &str, cors: &str, large: bool) {
    let path = format!("/{bucket}");
    let (code, head) = request(port, "PUT", &path, &signed(port, "PUT", &path, ""), b"");
    assert!(
        code == 200 || head.contains("BucketAlreadyOwnedByYou"),
        "CreateBucket {bucket}: {head}"
    );
    let md5 = {
        use base64::Engine as _;
        use md5::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(cors.as_bytes()))
    };
    let mut headers = signed(port, "PUT", &path, "cors=");
    headers.push(("content-md5".into(), md5));
    let (code, head) = request(port, "PUT", &format!("{path}?cors"), &headers, cors.as_bytes());
    assert_eq!(code, 200, "PutBucketCors: {head}");
    let sizes: &[(&str, usize)] = if large {
        &[("small", 1024), ("large", 64 << 20)]
    } else {
        &[("small", 1024)]
    };
    for &(key, size) in sizes {
        let path = format!("/{bucket}/{key}");
        let (code, head) = request(
            port,
            "PUT",
            &path,
            &signed(port, "PUT", &path, ""),
            &vec![b'x'; size],
        );
        assert_eq!(code, 200, "PutObject {key}: {head}");
    }
}

/// The W1/W2 configuration: 100 rules, the 99 decoys failing in turn on the exact origin, a wildcard
/// origin, the method and the requested headers; the rule that matches last or first.
fn hundred_rules(match_first: bool) -> String {
    let target = "<CORSRule><AllowedOrigin>http://localhost:3000</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
        <AllowedMethod>PUT</AllowedMethod><AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader>\
        <AllowedHeader>authorization</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>";
    let decoys: String = (0..99)
        .map(|i| match i % 4 {
            0 => target.replace("http://localhost:3000", &format!("http://decoy-{i}.example.com")),
            1 => target.replace(
                "http://localhost:3000",
                &format!("https://*.decoy-{i}.example.com"),
            ),
            2 => target.replace(
                "<AllowedMethod>PUT</AllowedMethod>",
                "<AllowedMethod>HEAD</AllowedMethod>",
            ),
            _ => target.replace("<AllowedHeader>authorization</AllowedHeader>", ""),
        })
        .collect();
    let rules = if match_first {
        format!("{target}{decoys}")
    } else {
        format!("{decoys}{target}")
    };
    format!("<CORSConfiguration>{rules}</CORSConfiguration>")
}

/// One wrk run's figures.
#[derive(Clone, Copy, Debug, Default)]
struct Sample {
    ok: f64,
    seconds: f64,
    /// User + system CPU seconds of the server over the run.
    cpu: f64,
    /// The user-space part of `cpu`; the rest was spent in the kernel.
    user: f64,
    bytes: f64,
    p50_us: f64,
    p99_us: f64,
}

impl Sample {
    fn per_cpu(&self) -> f64 {
        self.ok / self.cpu.max(1e-9)
    }
    /// (user, kernel) CPU microseconds per 2xx answer.
    fn us_per_answer(&self) -> (f64, f64) {
        let per = |secs: f64| secs * 1e6 / self.ok.max(1.0);
        (per(self.user), per(self.cpu - self.user))
    }
    fn rps(&self) -> f64 {
        self.ok / self.seconds.max(1e-9)
    }
    fn mb_per_cpu(&self) -> f64 {
        self.bytes / 1e6 / self.cpu.max(1e-9)
    }
    fn mb_per_s(&self) -> f64 {
        self.bytes / 1e6 / self.seconds.max(1e-9)
    }
}

/// A request shape for wrk: method, headers and body, written as a Lua script whose `done` prints the
/// summary on one line.
struct Shape {
    method: &'static str,
    headers: Vec<(String, String)>,
    body_bytes: usize,
}

impl Shape {
    fn lua(&self) -> String {
        let mut s = format!("wrk.method = \"{}\"\n", self.method);
        for (k, v) in &self.headers {
            s.push_str(&format!("wrk.headers[\"{k}\"] = \"{v}\"\n"));
        }
        if self.body_bytes > 0 {
            s.push_str(&format!("wrk.body = string.rep(\"x\", {})\n", self.body_bytes));
        }
        s.push_str(
            "done = function(s, l, r)\n  io.write(string.format(\"RESULT %d %d %d %d %d %d\\n\", s.requests, \
             s.duration, s.errors.status + s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout, \
             s.bytes, l:percentile(50), l:percentile(99)))\nend\n",
        );
        s
    }
}

struct Bench {
    dir: PathBuf,
    seconds: u32,
    connections: u32,
}

impl Bench {
    /// Runs wrk (pinned to core 1) against `server` for `target` and reads the server's CPU around it.
    fn run(&self, server: &Server, target: &str, shape: &Shape, payload: usize) -> Sample {
        let script = self.dir.join("shape.lua");
        std::fs::write(&script, shape.lua()).expect("write lua");
        let url = format!("http://127.0.0.1:{}{target}", server.port);
        let cpu0 = server.cpu();
        let out = Command::new("taskset")
            .args(["-c", "1", "wrk", "-t1"])
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.seconds))
            .arg("-s")
            .arg(&script)
            .arg(&url)
            .output()
            .expect("run wrk (tests/bench/run installs it)");
        let cpu1 = server.cpu();
        let (user, cpu) = (cpu1.0 - cpu0.0, cpu1.0 + cpu1.1 - cpu0.0 - cpu0.1);
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .unwrap_or_else(|| panic!("wrk: {text}"));
        let f: Vec<f64> = line.split_whitespace().filter_map(|v| v.parse().ok()).collect();
        let ok = (f[0] - f[2]).max(0.0);
        Sample {
            ok,
            seconds: f[1] / 1e6,
            cpu,
            user,
            bytes: ok * payload as f64,
            p50_us: f[4],
            p99_us: f[5],
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

struct Row {
    name: String,
    unit: &'static str,
    ratio: f64,
    /// The lowest and highest of the rounds' ratios: how far one round can be from the median.
    ratio_range: (f64, f64),
    target: Option<f64>,
    candidate: f64,
    ceiling: f64,
    rps: f64,
    ceiling_rps: f64,
    p50_us: f64,
    p99_us: f64,
    /// Median (user, kernel) CPU microseconds per answer: s3cors, then the ceiling.
    cpu_us: [(f64, f64); 2],
}

/// Time from spawning `bin` to its first 200 from `/_s3cors/health`, in milliseconds.
fn startup_ms(bin: &Path, dir: &Path) -> f64 {
    let data = dir.join("startup");
    let _ = std::fs::remove_dir_all(&data);
    let t = Instant::now();
    let server = Server::start(
        bin,
        &["--listen", "127.0.0.1:0", "--data-dir", &data.to_string_lossy()],
    );
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", server.port)) {
            let _ = s.write_all(b"GET /_s3cors/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/1.1 200") {
                return t.elapsed().as_secs_f64() * 1e3;
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn main() {
    let mut rounds = 5;
    let mut seconds = 5;
    let mut json = None;
    let mut only: Option<String> = None;
    let mut soak_seconds = None;
    let mut counting = false;
    let mut control_spin: u64 = 0;
    let mut dumps: Option<PathBuf> = None;
    let usage = "usage: s3cors-bench [--rounds N] [--seconds S] [--json FILE] [--only NAME-PREFIX] \
                 [--instructions [--dumps DIR]] [--soak SECONDS] [--control-spin NS]";
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().and_then(|v| v.parse().ok()).expect("--rounds N"),
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).expect("--seconds S"),
            "--json" => json = args.next().map(PathBuf::from),
            // Workloads whose name starts with this (e.g. `W3`), for profiling one of them.
            "--only" => only = args.next(),
            // Instead of the workloads: a mixed-traffic soak run of this many seconds.
            "--soak" => soak_seconds = args.next().and_then(|v| v.parse().ok()),
            // Instructions per answer under callgrind instead of requests per CPU-second.
            "--instructions" => counting = true,
            // Calibration: the control server spends NS nanoseconds of user-space CPU per answer.
            "--control-spin" => {
                control_spin = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--control-spin NS")
            }
            // With --instructions: keep each workload's last dump here as WORKLOAD.{s3cors,ceiling}.
            "--dumps" => dumps = args.next().map(PathBuf::from),
            "--help" | "-h" => {
                println!("{usage}");
                return;
            }
            other => {
                eprintln!("unknown argument {other}; {usage}");
                std::process::exit(2);
            }
        }
    }
    let exe = std::env::current_exe().expect("current exe");
    let bin_dir = exe.parent().expect("bin dir");
    let s3cors = bin_dir.join("s3cors");
    let ceiling_bin = bin_dir.join("ceiling");
    let dir = std::env::temp_dir().join(format!("s3cors-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    // Declared before the servers, so dropped after them.
    let _scratch = Scratch(dir.clone());
    if let Some(seconds) = soak_seconds {
        let doc = soak::run(&s3cors, &dir, seconds);
        if let Some(path) = json {
            std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write json");
        }
        return;
    }

    let start: Vec<f64> = if counting {
        Vec::new()
    } else {
        (0..15).map(|_| startup_ms(&s3cors, &dir)).collect()
    };

    let launch = |bin: &Path, args: &[&str]| {
        if counting {
            Server::start_counted(bin, args, &dir)
        } else {
            Server::start(bin, args)
        }
    };
    let ceiling = launch(&ceiling_bin, &["127.0.0.1:0", "1024"]);
    let control = launch(&ceiling_bin, &["127.0.0.1:0", "1024", &control_spin.to_string()]);
    let ceiling_large = Server::start(&ceiling_bin, &["127.0.0.1:0", &(64usize << 20).to_string()]);
    let env = [
        "--access-key-id",
        KEY,
        "--secret-access-key",
        SECRET,
        "--listen",
        "127.0.0.1:0",
    ];
    let memory = launch(&s3cors, &[&env[..], &["--memory"]].concat());
    let data = dir.join("data");
    let durable = launch(
        &s3cors,
        &[&env[..], &["--data-dir", &data.to_string_lossy()]].concat(),
    );
    for (server, _) in [(&memory, "memory"), (&durable, "durable")] {
        seed(server.port, "last", &hundred_rules(false), !counting);
        seed(server.port, "first", &hundred_rules(true), !counting);
    }

    let preflight = Shape {
        method: "OPTIONS",
        headers: vec![
            ("Origin".into(), ORIGIN.into()),
            ("Access-Control-Request-Method".into(), "PUT".into()),
            ("Access-Control-Request-Headers".into(), ACRH.into()),
        ],
        body_bytes: 0,
    };
    let origin_get = Shape {
        method: "GET",
        headers: vec![("Origin".into(), ORIGIN.into())],
        body_bytes: 0,
    };
    let header_get = Shape {
        method: "GET",
        headers: signed(memory.port, "GET", "/last/small", ""),
        body_bytes: 0,
    };
    let put = Shape {
        method: "PUT",
        headers: vec![],
        body_bytes: 1024,
    };
    let plain_get = Shape {
        method: "GET",
        headers: vec![],
        body_bytes: 0,
    };

    // Every workload is first checked to succeed against s3cors: a benchmark of errors measures nothing.
    let (code, head) = request(memory.port, "OPTIONS", "/last/small", &preflight.headers, b"");
    assert!(
        code == 200 && head.contains("access-control-allow-origin: http://localhost:3000"),
        "W1: {head}"
    );
    let (code, head) = request(memory.port, "GET", "/last/small", &header_get.headers, b"");
    assert_eq!(code, 200, "W3h: {head}");

    struct Work<'a> {
        name: &'static str,
        unit: &'static str,
        target: Option<f64>,
        ceiling: &'a Server,
        candidate: &'a Server,
        /// The request target, the same for both servers: the ceiling reads and parses the very
        /// request s3cors answers (a presigned target is some 500 bytes), so the ratio is the cost
        /// of what s3cors does with it, not of its size.
        path: String,
        shape: &'a Shape,
        payload: usize,
    }
    let works = [
        Work {
            name: "control: ceiling vs ceiling (GET 1 KiB)",
            unit: "req",
            target: None,
            ceiling: &ceiling,
            candidate: &control,
            path: "/x".into(),
            shape: &plain_get,
            payload: 1024,
        },
        Work {
            name: "W1 preflight, 100 rules, last matches",
            unit: "req",
            target: Some(0.90),
            ceiling: &ceiling,
            candidate: &memory,
            path: "/last/small".into(),
            shape: &preflight,
            payload: 0,
        },
        Work {
            name: "W2 preflight, 100 rules, first matches",
            unit: "req",
            target: Some(0.90),
            ceiling: &ceiling,
            candidate: &memory,
            path: "/first/small".into(),
            shape: &preflight,
            payload: 0,
        },
        Work {
            name: "W3 presigned GET 1 KiB + Origin",
            unit: "req",
            target: Some(0.70),
            ceiling: &ceiling,
            candidate: &memory,
            path: presign(memory.port, "GET", "/last/small"),
            shape: &origin_get,
            payload: 1024,
        },
        Work {
            name: "W3h header-signed GET 1 KiB",
            unit: "req",
            target: Some(0.70),
            ceiling: &ceiling,
            candidate: &memory,
            path: "/last/small".into(),
            shape: &header_get,
            payload: 1024,
        },
        Work {
            name: "W4 presigned PUT 1 KiB, --memory",
            unit: "req",
            target: Some(0.60),
            ceiling: &ceiling,
            candidate: &memory,
            path: presign(memory.port, "PUT", "/last/put"),
            shape: &put,
            payload: 0,
        },
        Work {
            name: "W4 presigned PUT 1 KiB, durable (fsync)",
            unit: "req",
            target: None,
            ceiling: &ceiling,
            candidate: &durable,
            path: presign(durable.port, "PUT", "/last/put"),
            shape: &put,
            payload: 0,
        },
        Work {
            name: "W5 presigned GET 64 MiB",
            unit: "MB",
            target: Some(0.90),
            ceiling: &ceiling_large,
            candidate: &memory,
            path: presign(memory.port, "GET", "/last/large"),
            shape: &plain_get,
            payload: 64 << 20,
        },
    ];
    // Counted, the 64 MiB GET (a copy loop, not a request path; not seeded) is left out.
    let works: Vec<Work<'_>> = works
        .into_iter()
        .filter(|w| !(counting && w.unit == "MB"))
        .collect();
    for w in &works {
        let (code, head) = request(
            w.candidate.port,
            w.shape.method,
            &w.path,
            &w.shape.headers,
            &vec![b'x'; w.shape.body_bytes],
        );
        assert!((200..300).contains(&code), "{}: {head}", w.name);
    }

    let bench = Bench {
        dir: dir.clone(),
        seconds,
        connections: 16,
    };
    let mut rows = Vec::new();
    let mut counted = Vec::new();
    for w in works
        .iter()
        .filter(|w| only.as_ref().is_none_or(|p| w.name.starts_with(p.as_str())))
    {
        if counting {
            if let Some(d) = &dumps {
                std::fs::create_dir_all(d).expect("dumps dir");
            }
            let per_answer = |server: &Server, path: &str, who: &str| {
                let keep = dumps.as_ref().map(|d| d.join(format!("{}.{who}", w.name)));
                let (sample, instructions) = server.count(&dir, keep.as_deref(), || {
                    bench.run(server, path, w.shape, w.payload)
                });
                instructions / sample.ok.max(1.0)
            };
            let (mut base, mut cand) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                base.push(per_answer(w.ceiling, &w.path, "ceiling"));
                cand.push(per_answer(w.candidate, &w.path, "s3cors"));
            }
            let (c, s) = (median(base), median(cand));
            eprintln!("{}: {s:.0} instructions per answer, ceiling {c:.0}", w.name);
            counted.push((w.name, s, c));
            continue;
        }
        let (mut base, mut cand) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            // ceiling, candidate, candidate, ceiling, …
            let pair = |first_ceiling: bool| {
                let c = || bench.run(w.ceiling, &w.path, w.shape, w.payload);
                let s = || bench.run(w.candidate, &w.path, w.shape, w.payload);
                if first_ceiling {
                    (c(), s())
                } else {
                    let s = s();
                    (c(), s)
                }
            };
            let (c, s) = pair(r % 2 == 0);
            base.push(c);
            cand.push(s);
        }
        let large = w.unit == "MB";
        let fig = |x: &Sample| if large { x.mb_per_cpu() } else { x.per_cpu() };
        let raw = |x: &Sample| if large { x.mb_per_s() } else { x.rps() };
        let ratios: Vec<f64> = base.iter().zip(&cand).map(|(c, s)| fig(s) / fig(c)).collect();
        let ratio_range = ratios
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                (lo.min(r), hi.max(r))
            });
        let row = Row {
            name: w.name.to_owned(),
            unit: w.unit,
            ratio: median(ratios),
            ratio_range,
            target: w.target,
            candidate: median(cand.iter().map(fig).collect()),
            ceiling: median(base.iter().map(fig).collect()),
            rps: median(cand.iter().map(raw).collect()),
            ceiling_rps: median(base.iter().map(raw).collect()),
            p50_us: median(cand.iter().map(|x| x.p50_us).collect()),
            p99_us: median(cand.iter().map(|x| x.p99_us).collect()),
            cpu_us: [&cand, &base].map(|runs| {
                let user = median(runs.iter().map(|x| x.us_per_answer().0).collect());
                let kernel = median(runs.iter().map(|x| x.us_per_answer().1).collect());
                (user, kernel)
            }),
        };
        eprintln!(
            "{}: ratio {:.3} (rounds {:.3}–{:.3})",
            row.name, row.ratio, row.ratio_range.0, row.ratio_range.1
        );
        rows.push(row);
    }

    if counting {
        println!(
            "rounds {rounds} x {seconds} s under callgrind, 16 connections; user-space instructions per 2xx answer"
        );
        println!();
        println!("| workload | s3cors | ceiling | ceiling / s3cors |");
        println!("|---|---|---|---|");
        for (name, s, c) in &counted {
            println!("| {name} | {s:.0} | {c:.0} | **{:.3}** |", c / s);
        }
        if let Some(path) = json {
            let doc = serde_json::json!({
                "rounds": rounds,
                "seconds": seconds,
                "instructions_per_answer": counted.iter().map(|(name, s, c)| serde_json::json!({
                    "name": name, "s3cors": s, "ceiling": c,
                })).collect::<Vec<_>>(),
            });
            std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write json");
        }
        return;
    }
    let (mem_rss, mem_peak) = memory.rss();
    let (dur_rss, dur_peak) = durable.rss();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "rounds {rounds} x {seconds} s, 16 connections, wrk on core 1, servers on core 0; loadavg {}",
        load.trim()
    );
    println!();
    println!(
        "| workload | s3cors / ceiling per CPU-second (rounds' range) | target | s3cors per CPU-s | ceiling per CPU-s | s3cors /s | ceiling /s | p50 | p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let target = r
            .target
            .map(|t| format!("≥ {t:.2}"))
            .unwrap_or_else(|| "—".into());
        println!(
            "| {} | **{:.3}** ({:.2}–{:.2}) | {target} | {:.0} {u} | {:.0} {u} | {:.0} {u} | {:.0} {u} | {:.0} µs | {:.0} µs |",
            r.name,
            r.ratio,
            r.ratio_range.0,
            r.ratio_range.1,
            r.candidate,
            r.ceiling,
            r.rps,
            r.ceiling_rps,
            r.p50_us,
            r.p99_us,
            u = r.unit
        );
    }
    println!(
        "| W6 RSS after the runs (peak) | memory {:.1} MiB ({:.1}), durable {:.1} MiB ({:.1}) | ≤ 20 MiB | | | | | | |",
        mem_rss as f64 / 1024.0,
        mem_peak as f64 / 1024.0,
        dur_rss as f64 / 1024.0,
        dur_peak as f64 / 1024.0
    );
    println!(
        "| start-up to healthy, median of 15 | {:.1} ms | ≤ 50 ms | | | | | | |",
        median(start.clone())
    );
    println!();
    println!("Server CPU per answer, user + kernel (from utime and stime; 10 ms ticks):");
    println!();
    println!("| workload | s3cors | ceiling |");
    println!("|---|---|---|");
    for r in rows.iter().filter(|r| r.unit != "MB") {
        let [(su, sk), (cu, ck)] = r.cpu_us;
        println!("| {} | {su:.1} + {sk:.1} µs | {cu:.1} + {ck:.1} µs |", r.name);
    }

    if let Some(path) = json {
        let doc = serde_json::json!({
            "rounds": rounds,
            "seconds": seconds,
            "loadavg": load.trim(),
            "workloads": rows.iter().map(|r| serde_json::json!({
                "name": r.name, "unit": r.unit, "ratio_per_cpu_second": r.ratio,
                "ratio_range": [r.ratio_range.0, r.ratio_range.1], "target": r.target,
                "s3cors_per_cpu_second": r.candidate, "ceiling_per_cpu_second": r.ceiling,
                "s3cors_per_second": r.rps, "ceiling_per_second": r.ceiling_rps,
                "p50_us": r.p50_us, "p99_us": r.p99_us,
                "cpu_us_per_answer_user_kernel": { "s3cors": [r.cpu_us[0].0, r.cpu_us[0].1],
                                                   "ceiling": [r.cpu_us[1].0, r.cpu_us[1].1] },
            })).collect::<Vec<_>>(),
            "rss_kib": { "memory": [mem_rss, mem_peak], "durable": [dur_rss, dur_peak] },
            "startup_ms_median": median(start),
        });
        std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json")).expect("write json");
    }
}
