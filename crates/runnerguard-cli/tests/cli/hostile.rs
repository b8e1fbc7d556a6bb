//! Hostile inputs: bounded cost, clear errors (issue #9 C1, C2, C4, C5 and the messages).
//!
//! Each input runs the binary under an address-space limit (`ulimit -v`, set by `sh` before
//! it execs the binary) and a wall-clock deadline that only catches hangs: speed targets are
//! met in benchmarks (BENCHMARKS.md), not here.

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Run, root};

/// Address space the binary may map: 200 MB of heap for a ≤ 1 MB input is the target, plus
/// what any process maps before reading a byte (code, thread stacks, allocator arenas).
const ADDRESS_SPACE_KB: u64 = 512 * 1024;

/// Memory a ≤ 1 MB input may use (issue #9: 200 MB; here 200 MiB of data segment, which
/// holds the heap: the process's code and the kernel's accounting are not in it).
const DATA_KB: u64 = 200 * 1024;

/// A run that did not finish within this is a hang.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs the binary with `args` under [`ADDRESS_SPACE_KB`] and [`DEADLINE`], `stdin` piped in,
/// `env` set. Output is read lossily: a hostile input may make it anything.
fn limited(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    limited_inner(args, stdin, None, env)
}

/// [`limited`], with the child's data segment (heap, anonymous mappings: `ulimit -d`, which
/// Linux counts as every private writable mapping) also limited to `data_kb`: an input that
/// needs more dies on a failed allocation instead of passing.
fn limited_data(args: &[&str], data_kb: u64) -> Run {
    limited_inner(args, None, Some(data_kb), &[])
}

fn limited_inner(
    args: &[&str],
    stdin: Option<&[u8]>,
    data_kb: Option<u64>,
    env: &[(&str, &str)],
) -> Run {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KB} {} && exec \"$0\" \"$@\"",
            data_kb.map_or(String::new(), |kb| format!("&& ulimit -d {kb}"))
        ))
        .arg(env!("CARGO_BIN_EXE_runnerguard"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("MALLOC_ARENA_MAX", "2")
        .env_remove("RUNNERGUARD_HELM")
        .env("PATH", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let input = stdin.map(<[u8]>::to_vec);
    let mut pipe = child.stdin.take().unwrap();
    // Written and read from threads: a child that refuses its input early must not block
    // the test, nor one whose output fills the pipe while the test waits for it to exit.
    let writer = std::thread::spawn(move || {
        if let Some(bytes) = input {
            let _ = pipe.write_all(&bytes);
        }
    });
    let drain = |mut stream: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stream.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{args:?} did not finish within {DEADLINE:?}: a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Exit 2 with a message, no panic, no signal.
fn refused(r: &Run, what: &str) {
    assert_eq!(r.code, 2, "{what}: exit {}\n{}", r.code, r.stderr);
    assert!(!r.stderr.contains("panicked"), "{what}: {}", r.stderr);
    assert!(!r.stderr.is_empty(), "{what}: no message");
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_fifo_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("manifests.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Opening a FIFO blocks until a writer comes: the binary must not open it.
    let r = limited(&["audit", "-f", path(&fifo)], None, &[]);
    refused(&r, "FIFO");
    assert!(
        r.stderr.contains("not a regular file but a FIFO"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("-f -"), "{}", r.stderr);
}

#[test]
fn a_device_behind_a_committed_link_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("rbac.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let r = limited(&["audit", "-f", path(&link)], None, &[]);
    refused(&r, "/dev/zero");
    assert!(
        r.stderr.contains("not a regular file but a device"),
        "{}",
        r.stderr
    );
    let r = limited(
        &["can-i", "get", "pods", "--as", "x", "-f", path(&link)],
        None,
        &[],
    );
    refused(&r, "/dev/zero in can-i");

    // In a directory, such an entry is not a manifest; the real files are read.
    std::fs::write(
        dir.path().join("sa.yaml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: ns}\n",
    )
    .unwrap();
    let r = limited(&["audit", "-f", path(dir.path())], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn inputs_over_the_size_limit_are_refused_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..100 {
        let _ = writeln!(
            text,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{i}, namespace: ns}}"
        );
    }
    assert!(text.len() > 4096);
    let file = dir.path().join("big.yaml");
    std::fs::write(&file, &text).unwrap();
    let env = [("RUNNERGUARD_MAX_FILE_BYTES", "4096")];
    let r = limited(&["audit", "-f", path(&file)], None, &env);
    refused(&r, "file over the limit");
    assert!(
        r.stderr.contains("larger than 4096 bytes")
            && r.stderr.contains("RUNNERGUARD_MAX_FILE_BYTES"),
        "{}",
        r.stderr
    );
    let r = limited(&["audit", "-f", "-"], Some(text.as_bytes()), &env);
    refused(&r, "stdin over the limit");
    assert!(
        r.stderr.contains("RUNNERGUARD_MAX_FILE_BYTES"),
        "{}",
        r.stderr
    );
    // Under the default limit the same file is read.
    let r = limited(&["audit", "-f", path(&file)], None, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn invalid_utf8_on_stdin_has_a_place() {
    let r = limited(
        &["audit", "-f", "-"],
        Some(b"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: \xff}\n"),
        &[],
    );
    refused(&r, "invalid UTF-8 on stdin");
    assert!(r.stderr.contains("-:3:18: not UTF-8"), "{}", r.stderr);
}

/// Inputs of at most 1 MB built to cost: each ends with a clear result, inside the address
/// space, before the deadline.
#[test]
#[allow(
    clippy::print_stderr,
    reason = "names the case a failure belongs to, where cargo test shows it"
)]
fn small_hostile_inputs_stay_bounded() {
    let sa = |i: usize| {
        format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: [{i}]}}\n---\n")
    };
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // C1: 10,000 malformed documents.
    cases.push((
        "10k bad documents",
        (0..10_000).map(sa).collect::<String>().into_bytes(),
    ));
    // C1: a one-line JSON List of 10,000 bad items.
    let items: Vec<String> = (0..10_000)
        .map(|i| {
            format!(r#"{{"apiVersion":"v1","kind":"ServiceAccount","metadata":{{"name":{i}}}}}"#)
        })
        .collect();
    cases.push((
        "JSON List of 10k bad items",
        format!(
            r#"{{"apiVersion":"v1","kind":"List","items":[{}]}}"#,
            items.join(",")
        )
        .into_bytes(),
    ));
    // C2: a JSON List nested 12,000 deep.
    let mut deep = String::new();
    for _ in 0..12_000 {
        deep.push_str(r#"{"apiVersion":"v1","kind":"List","items":["#);
    }
    for _ in 0..12_000 {
        deep.push_str("]}");
    }
    cases.push(("JSON List nested 12,000 deep", deep.into_bytes()));
    // YAML nested 50,000 deep and a flow sequence nested as deep.
    cases.push((
        "YAML nested",
        format!("{}1{}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(),
    ));
    // A billion laughs.
    let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
    for w in ["a", "b", "c", "d", "e", "f", "g", "h", "i"].windows(2) {
        let refs = vec![format!("*{}", w[0]); 9].join(",");
        let _ = writeln!(bomb, "{}: &{} [{refs}]", w[1], w[1]);
    }
    cases.push(("alias bomb", bomb.into_bytes()));
    // A mapping of 60,000 keys.
    let keys = (0..60_000).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "k{i}: v");
        s
    });
    cases.push(("60k keys", keys.into_bytes()));
    // A 1 MB scalar.
    cases.push((
        "1 MB scalar",
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: b}}\ndata: {{a: {}}}\n", "x".repeat(1 << 20)).into_bytes(),
    ));
    // 4,000 runners in a config.toml, one line each.
    let runners = (0..4_000).fold(String::new(), |mut s, i| {
        let _ = write!(s, "[[runners]]\nname = \"r{i}\"\nexecutor = \"kubernetes\"\n[runners.kubernetes]\nnamespace = \"ns-{i}\"\n");
        s
    });
    cases.push(("4k runners", runners.into_bytes()));
    // 1 MB of runners, a namespace each (15,000) and in one namespace (30,800): every entry
    // yields findings, so the output is 70-80 times the input (214 MB before the topology
    // was written a job at a time).
    let mut runners = String::new();
    let mut i = 0;
    while runners.len() < (1 << 20) - 200 {
        let _ = write!(
            runners,
            "[[runners]]\nexecutor=\"kubernetes\"\n[runners.kubernetes]\nnamespace=\"n{i}\"\n"
        );
        i += 1;
    }
    cases.push(("1 MB of runners, a namespace each", runners.into_bytes()));
    let mut runners = String::new();
    while runners.len() < (1 << 20) - 200 {
        runners.push_str("[[runners]]\nexecutor=\"kubernetes\"\n");
    }
    cases.push(("1 MB of runners in one namespace", runners.into_bytes()));

    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in &cases {
        assert!(bytes.len() <= 1 << 21, "{name} is {} bytes", bytes.len());
        let ext = if name.contains("runners") {
            "toml"
        } else {
            "yaml"
        };
        let file = dir.path().join(format!("case.{ext}"));
        std::fs::write(&file, bytes).unwrap();
        eprintln!("case: {name}");
        let r = limited_data(&["audit", "-o", "json", "-f", path(&file)], DATA_KB);
        assert!(
            !r.stderr.contains("memory allocation of"),
            "{name}: needs more than the {DATA_KB} KB of memory a ≤ 1 MB input may use"
        );
        assert!(
            matches!(r.code, 0..=2),
            "{name}: exit {} (killed or out of memory?)\n{}",
            r.code,
            &r.stderr[..r.stderr.len().min(2000)]
        );
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        assert!(
            r.stderr.len() < 64 * 1024,
            "{name}: {} bytes of stderr",
            r.stderr.len()
        );
    }
}

/// A 300 MB file (sparse: no disk is used) is refused from its size, before it is read,
/// within the address-space limit; a 1 GB stream on stdin stops at the limit.
#[test]
fn large_inputs_are_refused_before_they_cost() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rbac.yaml");
    std::fs::File::create(&file)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let r = limited(&["audit", "-f", path(&file)], None, &[]);
    refused(&r, "300 MB file");
    assert!(
        r.stderr.contains("RUNNERGUARD_MAX_FILE_BYTES"),
        "{}",
        r.stderr
    );

    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ADDRESS_SPACE_KB} && head -c 1073741824 /dev/zero | \"$0\" audit -f -"
        ))
        .arg(env!("CARGO_BIN_EXE_runnerguard"))
        .env("MALLOC_ARENA_MAX", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < DEADLINE, "1 GB on stdin: a hang");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("RUNNERGUARD_MAX_FILE_BYTES"), "{stderr}");
}

/// A 200 MB scalar: refused at the scalar budget with its variable named, and the message is
/// a few lines, not the scalar (it was 209 MB of stderr).
#[test]
fn a_200_mb_scalar_is_refused_in_a_few_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.yaml");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        f.write_all(
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata:\n  a: ",
        )
        .unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..200 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\n").unwrap();
    }
    let r = limited(&["audit", "-f", path(&file)], None, &[]);
    refused(&r, "200 MB scalar");
    assert!(
        r.stderr.contains("big.yaml:5:6") && r.stderr.contains("RUNNERGUARD_MAX_SCALAR_BYTES"),
        "{}",
        &r.stderr[..r.stderr.len().min(4000)]
    );
    assert!(r.stderr.len() < 4096, "{} bytes of stderr", r.stderr.len());
}

/// Past 100 problems, the rest are counted: the total is right and the report short.
#[test]
fn problems_past_the_cap_are_counted_in_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("many.yaml");
    let text = (0..150).fold(String::new(), |mut s, i| {
        let _ = write!(
            s,
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: [{i}]}}\n---\n"
        );
        s
    });
    std::fs::write(&file, text).unwrap();
    let r = limited(&["can-i", "get", "pods", "-f", path(&file)], None, &[]);
    refused(&r, "150 bad documents");
    assert!(
        r.stderr
            .contains("50 more problems not shown (the first 100 are)")
            && r.stderr.contains("150 malformed inputs"),
        "{}",
        &r.stderr[r.stderr.len().saturating_sub(500)..]
    );
}

/// More `[[runners]]` than the limit: refused with the variable named, the count given, and
/// the place of `runners`; at the limit the file is read.
#[test]
fn runner_entries_over_the_limit_are_refused_with_the_limit_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    let entry =
        "[[runners]]\nexecutor = \"kubernetes\"\n[runners.kubernetes]\nnamespace = \"jobs\"\n";
    std::fs::write(&file, entry.repeat(11)).unwrap();
    let r = limited(
        &["audit", "-f", path(&file)],
        None,
        &[("RUNNERGUARD_MAX_RUNNERS", "10")],
    );
    refused(&r, "11 runners over a limit of 10");
    assert!(
        r.stderr.contains("11 `[[runners]]` entries")
            && r.stderr.contains("RUNNERGUARD_MAX_RUNNERS")
            && r.stderr.contains("config.toml:1:"),
        "{}",
        r.stderr
    );
    let r = limited(
        &["audit", "-f", path(&file)],
        None,
        &[("RUNNERGUARD_MAX_RUNNERS", "11")],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        !r.stderr.contains("RUNNERGUARD_MAX_RUNNERS"),
        "{}",
        r.stderr
    );
}
