//! The soak run: minutes of mixed traffic from many connections against the durable server, with the
//! server's RSS sampled throughout. It reports figures; it asserts nothing about speed.
//!
//! The mix, taken in turn by each connection: a preflight against the 100-rule configuration,
//! presigned and header-signed GETs with an Origin, presigned 1 KiB PUTs over 8 keys, presigned
//! ListObjectsV2, and presigned UploadPart into one open multipart upload.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{ACRH, ORIGIN, Server, hundred_rules, presign, presign_query, request, seed, signed};

fn lua_str(s: &str) -> String {
    format!("{s:?}")
}

/// Runs the soak for `seconds` and prints its figures; returns them as JSON.
pub(crate) fn run(s3cors: &Path, dir: &Path, seconds: u64) -> serde_json::Value {
    let connections = 64;
    let data = dir.join("soak-data");
    let server = Server::start(
        s3cors,
        &[
            "--access-key-id",
            crate::KEY,
            "--secret-access-key",
            crate::SECRET,
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &data.to_string_lossy(),
        ],
    );
    let port = server.port;
    seed(port, "last", &hundred_rules(false), true);
    let path = "/last/soak-mp";
    let (code, head) = request(
        port,
        "POST",
        &format!("{path}?uploads"),
        &signed(port, "POST", path, "uploads="),
        b"",
    );
    assert_eq!(code, 200, "CreateMultipartUpload: {head}");
    let body = {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        use std::io::{Read, Write};
        let h = signed(port, "GET", "/last", "uploads=");
        let mut req =
            format!("GET /last?uploads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        for (k, v) in &h {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let upload_id = body
        .split("<UploadId>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("an upload id")
        .to_owned();

    let mut reqs: Vec<String> = Vec::new();
    let fmt = |method: &str, target: &str, headers: &[(String, String)], body: Option<&str>| {
        let host = ("Host".to_owned(), format!("127.0.0.1:{port}"));
        let h: Vec<String> = headers
            .iter()
            .chain([&host])
            .map(|(k, v)| format!("[{}] = {}", lua_str(k), lua_str(v)))
            .collect();
        format!(
            "wrk.format({}, {}, {{{}}}, {})",
            lua_str(method),
            lua_str(target),
            h.join(", "),
            body.map_or("nil".to_owned(), |b| format!("string.rep(\"x\", {})", b.len()))
        )
    };
    let origin = vec![("Origin".to_owned(), ORIGIN.to_owned())];
    let preflight = vec![
        ("Origin".to_owned(), ORIGIN.to_owned()),
        ("Access-Control-Request-Method".to_owned(), "PUT".to_owned()),
        ("Access-Control-Request-Headers".to_owned(), ACRH.to_owned()),
    ];
    let kib = "x".repeat(1024);
    for i in 0..8 {
        reqs.push(fmt("OPTIONS", "/last/small", &preflight, None));
        reqs.push(fmt("GET", &presign(port, "GET", "/last/small"), &origin, None));
        let mut header_get = signed(port, "GET", "/last/small", "");
        header_get.extend(origin.clone());
        reqs.push(fmt("GET", "/last/small", &header_get, None));
        let key = format!("/last/soak-{i}");
        reqs.push(fmt("PUT", &presign(port, "PUT", &key), &origin, Some(&kib)));
        if i % 2 == 0 {
            reqs.push(fmt(
                "GET",
                &presign_query(port, "GET", "/last", "list-type=2&prefix=soak-"),
                &[],
                None,
            ));
        } else {
            let part = format!("partNumber={}&uploadId={}", i / 2 + 1, upload_id);
            reqs.push(fmt(
                "PUT",
                &presign_query(port, "PUT", path, &part),
                &[],
                Some(&kib),
            ));
        }
    }
    let script = format!(
        "local reqs = {{ {} }}\n\
         local n = 0\n\
         c2, c3, c4, c5 = 0, 0, 0, 0\n\
         request = function() n = n + 1; return reqs[(n % #reqs) + 1] end\n\
         response = function(status, headers, body)\n\
           if status >= 500 then c5 = c5 + 1 elseif status >= 400 then c4 = c4 + 1\n\
           elseif status >= 300 then c3 = c3 + 1 else c2 = c2 + 1 end\n\
         end\n\
         local threads = {{}}\n\
         setup = function(t) table.insert(threads, t) end\n\
         done = function(s, l, r)\n\
           local a, b, c, d = 0, 0, 0, 0\n\
           for _, t in ipairs(threads) do a = a + t:get(\"c2\"); b = b + t:get(\"c3\"); c = c + t:get(\"c4\"); d = d + t:get(\"c5\") end\n\
           local e = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout\n\
           io.write(string.format(\"SOAK %d %d %d %d %d %d %d %d %d\\n\", s.requests, s.duration, a, b, c, d, e, \
             l:percentile(50), l:percentile(99)))\n\
         end\n",
        reqs.join(",\n")
    );
    let lua = dir.join("soak.lua");
    std::fs::write(&lua, script).expect("write lua");

    let cpu0 = server.cpu();
    let mut wrk = Command::new("taskset")
        .args(["-c", "1", "wrk", "-t2"])
        .arg(format!("-c{connections}"))
        .arg(format!("-d{seconds}s"))
        .arg("--timeout")
        .arg("10s")
        .arg("-s")
        .arg(&lua)
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run wrk (tests/bench/run installs it)");
    let started = Instant::now();
    let mut samples: Vec<(f64, u64)> = Vec::new();
    while wrk.try_wait().expect("wrk").is_none() {
        samples.push((started.elapsed().as_secs_f64(), server.rss().0));
        std::thread::sleep(Duration::from_secs(5));
    }
    let total = |(user, system): (f64, f64)| user + system;
    let cpu = total(server.cpu()) - total(cpu0);
    let mut out = String::new();
    use std::io::Read;
    wrk.stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("wrk output");
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("SOAK "))
        .unwrap_or_else(|| panic!("wrk: {out}"));
    let f: Vec<f64> = line.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    let (requests, secs) = (f[0], f[1] / 1e6);
    let (ok, redirect, client_err, server_err, socket_err) = (f[2], f[3], f[4], f[5], f[6]);
    // Warm-up: the first 30 s (or the first fifth of a shorter run).
    let warm = (seconds as f64 / 5.0).min(30.0);
    let after: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= warm)
        .map(|(_, r)| *r)
        .collect();
    let first = after.first().copied().unwrap_or(0);
    let last = after.last().copied().unwrap_or(0);
    let max = after.iter().copied().max().unwrap_or(0);
    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "soak: {seconds} s, {connections} connections, durable store; loadavg {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!();
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| requests | {requests:.0} ({:.0}/s, {:.0} per server CPU-second) |",
        requests / secs,
        requests / cpu.max(1e-9)
    );
    println!(
        "| 2xx / 3xx / 4xx / 5xx / socket errors | {ok:.0} / {redirect:.0} / {client_err:.0} / {server_err:.0} / {socket_err:.0} |"
    );
    println!("| latency p50 / p99 | {:.0} µs / {:.0} µs |", f[7], f[8]);
    println!(
        "| RSS after warm-up ({warm:.0} s) → end (max) | {:.1} MiB → {:.1} MiB ({:.1} MiB) |",
        mib(first),
        mib(last),
        mib(max)
    );
    serde_json::json!({
        "seconds": seconds,
        "connections": connections,
        "requests": requests,
        "per_second": requests / secs,
        "per_server_cpu_second": requests / cpu.max(1e-9),
        "status": { "2xx": ok, "3xx": redirect, "4xx": client_err, "5xx": server_err, "socket_errors": socket_err },
        "p50_us": f[7],
        "p99_us": f[8],
        "rss_kib_samples": samples.iter().map(|(t, r)| serde_json::json!([t, r])).collect::<Vec<_>>(),
        "rss_kib_after_warmup": first,
        "rss_kib_end": last,
        "rss_kib_max_after_warmup": max,
    })
}
