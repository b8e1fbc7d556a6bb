//! `audit -o html`: the seed audit's page, snapshotted, then opened in headless Chromium
//! (Debian's `chromium`): a screenshot that is a real picture of the page, and the DOM the
//! browser built from it, with the findings table, the access matrix and the escalation
//! graph's SVG. The page loads nothing, holds no secret and escapes hostile names.
//!
//! Chromium is found through `RUNNERGUARD_CHROMIUM`, else `chromium` on PATH
//! (scripts/install-chromium.sh installs it); without it the browser tests are skipped with a
//! message, except in CI, where they are required.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{root, run};

/// The seed's one secret-like value: `runnerRegistrationToken` in its values file.
const SEED_SECRET: &str = "__REPLACE_ME__";

/// The screenshot's size: the page's width, and tall enough for the whole seed page.
const WIDTH: u32 = 1400;
const HEIGHT: u32 = 4200;

/// Renders the audit of `inputs` as HTML into `dir/name`, and returns the page.
fn render(dir: &Path, name: &str, inputs: &[&str]) -> (PathBuf, String) {
    let file = dir.join(name);
    let out = format!("html={}", file.display());
    let mut args = vec!["audit", "-o", &out];
    for input in inputs {
        args.extend(["-f", input]);
    }
    let r = run(&args);
    assert_eq!(r.code, 1, "the seed fails its audit: {}", r.stderr);
    assert!(r.stdout.is_empty(), "-o html=FILE writes nothing on stdout");
    let page = std::fs::read_to_string(&file).unwrap();
    (file, page)
}

/// Asserts the page references nothing on the network and carries its CSP, and that its
/// links are to itself.
#[track_caller]
pub(super) fn assert_self_contained(page: &str) {
    assert!(page.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ));
    for attribute in ["src=", "href=", "xlink:href=", "action=", "url("] {
        for (i, _) in page.match_indices(attribute) {
            let value = page[i + attribute.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !value.starts_with("http") && !value.starts_with("//"),
                "network reference: {}",
                &page[i..(i + 80).min(page.len())]
            );
        }
    }
    for banned in [
        "http://", "https://", "<script", "<link", "<img", "<iframe", "@import",
    ] {
        assert!(!page.contains(banned), "`{banned}` in the page");
    }
    for href in page.split("href=\"").skip(1) {
        assert!(href.starts_with('#'), "{href:.40}");
    }
    for url in page.split("url(").skip(1) {
        assert!(url.starts_with('#'), "{url:.40}");
    }
}

#[test]
fn the_seed_audit_as_html() {
    let dir = tempfile::tempdir().unwrap();
    let (file, page) = render(dir.path(), "report.html", &["examples/seed/"]);
    assert_self_contained(&page);
    assert!(
        !page.contains(SEED_SECRET),
        "a secret value reached the page"
    );
    // Summary, findings with evidence, matrix and graph.
    assert!(page.contains("<span class=\"verdict\">fails</span>"));
    assert!(page.contains("<li class=\"sev critical\"><b>1</b> critical</li>"));
    assert_eq!(page.matches("<tr class=\"finding").count(), 18);
    assert!(page.contains(
        "<div class=\"ev d1\">RoleBinding gitlab-runner/gitlab-runner-job-binding (examples/seed/01-first-answer-rbac.yaml:34)</div>"
    ));
    assert!(
        page.contains(
            "<h3>Namespace <code>teams</code> <span class=\"n\">(bound here)</span></h3>"
        )
    );
    assert!(page.contains("<g class=\"node start\"><title>ServiceAccount gitlab-runner/gitlab-runner (runner manager)</title>"));
    // The markup, sorted and stable; the style (above it) is checked by the screenshot.
    insta::assert_snapshot!(&page[page.find("</style>").unwrap()..]);

    let Some(chromium) = chromium() else {
        return;
    };
    // The DOM the browser built: every part of the page is there as elements.
    let dom = browse(&chromium, &file, &["--dump-dom"], dir.path()).stdout;
    let dom = String::from_utf8(dom).unwrap();
    assert_eq!(dom.matches("<tr class=\"finding").count(), 18, "{dom}");
    assert!(dom.contains("<table class=\"findings\">"));
    assert_eq!(
        dom.matches("<table class=\"matrix\">").count(),
        3,
        "cluster-wide, gitlab-runner, teams"
    );
    assert_eq!(dom.matches("<td class=\"yes ").count(), 8, "{dom}");
    let svg = &dom[dom.find("<svg").expect("an svg")..dom.find("</svg>").unwrap()];
    assert_eq!(svg.matches("<g class=\"node").count(), 3, "{svg}");
    assert_eq!(svg.matches("<path class=\"edge\"").count(), 2, "{svg}");
    assert!(svg.contains(">create pods</tspan>"), "{svg}");
    assert!(!elements(&dom).contains("script"));

    // The screenshot: a PNG of the requested size with a picture in it. A page of one colour
    // compresses to almost nothing; the blank page, shot the same way, is the yardstick.
    let shot = dir.path().join("report.png");
    let blank = dir.path().join("blank.png");
    screenshot(&chromium, &file, &shot, dir.path());
    std::fs::write(
        dir.path().join("blank.html"),
        "<!DOCTYPE html><title>x</title>",
    )
    .unwrap();
    screenshot(
        &chromium,
        &dir.path().join("blank.html"),
        &blank,
        dir.path(),
    );
    let page_png = Png::read(&shot);
    let blank_png = Png::read(&blank);
    assert_eq!((page_png.width, page_png.height), (WIDTH, HEIGHT));
    assert!(
        page_png.data > 20 * blank_png.data.max(1) && page_png.data > 100_000,
        "the screenshot holds {} bytes of image data, a blank page {}",
        page_png.data,
        blank_png.data
    );
    // Kept for people to look at when asked (the closing note of issue #11 describes it).
    if let Some(keep) = std::env::var_os("RUNNERGUARD_HTML_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}

#[test]
fn hostile_names_are_escaped_in_the_page_and_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    // A RoleBinding of the seed's manager whose names would be markup, were they not escaped.
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    std::fs::write(
        dir.path().join("evil.yaml"),
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: \"{evil}\"\n  namespace: gitlab-runner\nsubjects:\n- kind: ServiceAccount\n  name: gitlab-runner\n  namespace: gitlab-runner\nroleRef:\n  kind: ClusterRole\n  name: \"{evil}\"\n  apiGroup: rbac.authorization.k8s.io\n"
        ),
    )
    .unwrap();
    let evil_dir = dir.path().display().to_string();
    let (file, page) = render(dir.path(), "report.html", &["examples/seed/", &evil_dir]);
    assert_self_contained(&page);
    assert!(!page.contains(evil));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;")
    );
    let Some(chromium) = chromium() else {
        return;
    };
    let dom =
        String::from_utf8(browse(&chromium, &file, &["--dump-dom"], dir.path()).stdout).unwrap();
    let elements = elements(&dom);
    assert!(
        !elements.contains("script") && !elements.contains("img"),
        "{elements:?}"
    );
    // As text, where the browser shows it.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

/// The element names in a DOM as Chromium serializes it: text has `<` escaped, attribute
/// values are double-quoted with `"` escaped, so every `<` outside quotes opens a tag (the
/// page's style and titles hold no `<`).
fn elements(dom: &str) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let mut chars = dom.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '<' {
            continue;
        }
        let mut name = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphanumeric() || n == '/' || n == '!' {
                name.push(n);
                chars.next();
            } else {
                break;
            }
        }
        names.insert(name.trim_start_matches('/').to_ascii_lowercase());
        // The rest of the tag: skip quoted attribute values up to the closing `>`.
        let mut quoted = false;
        for n in chars.by_ref() {
            match n {
                '"' => quoted = !quoted,
                '>' if !quoted => break,
                _ => {}
            }
        }
    }
    names
}

/// The Chromium to use, or `None` (with a message) outside CI when there is none.
#[expect(
    clippy::print_stderr,
    reason = "a skipped browser test says so, as the kubectl test does"
)]
pub(super) fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("RUNNERGUARD_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join("chromium"))
                .find(|p| p.is_file())
        })
        .filter(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is required in CI (scripts/install-chromium.sh; RUNNERGUARD_CHROMIUM)"
        );
        eprintln!(
            "skipped: no chromium (set RUNNERGUARD_CHROMIUM or run scripts/install-chromium.sh)"
        );
    }
    found
}

/// Runs headless Chromium on `page` with `args`, its profile in `dir`, for at most two
/// minutes.
pub(super) fn browse(
    chromium: &Path,
    page: &Path,
    args: &[&str],
    dir: &Path,
) -> std::process::Output {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--window-size={WIDTH},{HEIGHT}"),
        ])
        .args(args)
        .arg(&url)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read while it runs: a page's DOM can be larger than a pipe holds.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("chromium did not finish within two minutes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = std::process::Output {
        status: child.wait().unwrap(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn screenshot(chromium: &Path, page: &Path, png: &Path, dir: &Path) {
    browse(
        chromium,
        page,
        &[&format!("--screenshot={}", png.display())],
        dir,
    );
    assert!(png.is_file(), "no screenshot at {}", png.display());
}

/// What the test reads of a PNG: its size from IHDR and how many bytes of image data (IDAT)
/// it holds, the chunks checked in order from the signature to IEND.
struct Png {
    width: u32,
    height: u32,
    data: usize,
}

impl Png {
    fn read(path: &Path) -> Self {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        let mut at = 8;
        let mut png = Png {
            width: 0,
            height: 0,
            data: 0,
        };
        let mut ended = false;
        while at + 8 <= bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let kind = &bytes[at + 4..at + 8];
            let body = &bytes[at + 8..at + 8 + len];
            match kind {
                b"IHDR" => {
                    png.width = u32::from_be_bytes(body[0..4].try_into().unwrap());
                    png.height = u32::from_be_bytes(body[4..8].try_into().unwrap());
                }
                b"IDAT" => png.data += len,
                b"IEND" => ended = true,
                _ => {}
            }
            at += 12 + len;
        }
        assert!(ended && png.width > 0, "a truncated PNG");
        png
    }
}
