//! Messages in the student's terms: no library advice leaks into input
//! errors, and they keep `path:line:col`.

mod common;

use common::{Sandbox, write_files};

#[test]
fn duplicate_keys_read_as_duplicate_keys() {
    let sb = Sandbox::new();
    write_files(
        &sb.work(),
        &[(
            "dup.yaml",
            "apiVersion: v1\nkind: Pod\napiVersion: v1\nmetadata:\n  name: p\n",
        )],
    );
    let r = sb.run(&["scan", "pss", "dup.yaml"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr
            .starts_with("dup.yaml:3:1: duplicate key apiVersion\n"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("DuplicateKeyPolicy"), "{}", r.stderr);
    // The same in a workspace being graded, and in a lab.yaml.
    assert_eq!(sb.run(&["start", "pss-scissors"]).code, 0);
    write_files(
        &sb.work().join("seclab/pss-scissors"),
        &[("namespace.yaml", "kind: Namespace\nkind: Namespace\n")],
    );
    let r = sb.run(&["check", "pss-scissors", "namespace"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("namespace.yaml:2:1: duplicate key kind"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("DuplicateKeyPolicy"), "{}", r.stdout);
}
