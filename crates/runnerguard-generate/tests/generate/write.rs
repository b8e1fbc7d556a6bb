//! `write_dir`: a new directory appears whole; an existing one is updated file by file,
//! never over a file runnerguard did not write unless forced; files a configuration no
//! longer produces are removed; the marker lists what was written.

use std::fs;

use runnerguard_generate::{GenerateError, MARKER, default_config, write_dir};

use crate::{files, three_tenants};

#[test]
fn a_new_directory_is_written_whole_with_its_marker() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("nested/setup");
    let generated = files(&default_config());
    let summary = write_dir(&out, &generated, false).unwrap();
    assert_eq!(summary.written.len(), generated.len());
    for f in &generated {
        assert_eq!(fs::read_to_string(out.join(&f.path)).unwrap(), f.contents);
    }
    let marker = fs::read_to_string(out.join(MARKER)).unwrap();
    for f in &generated {
        assert!(marker.lines().any(|l| l == f.path), "{}", f.path);
    }
    // Nothing left behind beside it.
    let beside: Vec<_> = fs::read_dir(tmp.path().join("nested")).unwrap().collect();
    assert_eq!(beside.len(), 1);
    // Again: nothing changes.
    let again = write_dir(&out, &generated, false).unwrap();
    assert!(again.written.is_empty());
    assert_eq!(again.unchanged.len(), generated.len());
}

#[test]
fn foreign_files_are_not_overwritten_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    fs::create_dir_all(out.join("teams")).unwrap();
    fs::write(out.join("teams/values.yaml"), "mine: true\n").unwrap();
    fs::write(out.join("notes.txt"), "keep me\n").unwrap();
    let generated = files(&default_config());
    let err = write_dir(out, &generated, false).unwrap_err();
    match &err {
        GenerateError::Conflict { paths, .. } => assert_eq!(paths, &["teams/values.yaml"]),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("`teams/values.yaml`"), "{err}");
    assert!(err.to_string().contains("--force"), "{err}");
    // Nothing was written.
    assert_eq!(
        fs::read_to_string(out.join("teams/values.yaml")).unwrap(),
        "mine: true\n"
    );
    assert!(!out.join("kustomization.yaml").exists());
    assert!(!out.join(MARKER).exists());

    let summary = write_dir(out, &generated, true).unwrap();
    assert!(summary.written.contains(&"teams/values.yaml".to_owned()));
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "keep me\n"
    );
    // No temporary files are left.
    let stray: Vec<String> = fs::read_dir(out.join("teams"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e == "tmp")
        })
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn own_files_are_updated_and_stale_ones_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("setup");
    write_dir(&out, &files(&three_tenants()), false).unwrap();
    assert!(out.join("web/values.yaml").exists());
    fs::write(out.join("web/mine.txt"), "keep\n").unwrap();
    let summary = write_dir(&out, &files(&default_config()), false).unwrap();
    assert!(summary.removed.contains(&"web/values.yaml".to_owned()));
    assert!(summary.removed.contains(&"data/limits.yaml".to_owned()));
    assert!(
        summary
            .written
            .contains(&"manager/namespace.yaml".to_owned())
    );
    assert!(!out.join("web/values.yaml").exists());
    assert!(!out.join("data").exists());
    assert_eq!(
        fs::read_to_string(out.join("web/mine.txt")).unwrap(),
        "keep\n"
    );
    assert!(out.join("teams/values.yaml").exists());
}

#[test]
fn an_output_path_that_is_a_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("file");
    fs::write(&out, "x").unwrap();
    let err = write_dir(&out, &files(&default_config()), false).unwrap_err();
    assert!(matches!(err, GenerateError::Io { .. }), "{err:?}");
}
