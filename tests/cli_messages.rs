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

#[test]
fn a_warning_names_its_field_and_is_told_once_per_task() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["start", "sa-token"]).code, 0);
    let rbac = sb.work().join("seclab/sa-token/rbac.yaml");
    let text = std::fs::read_to_string(&rbac).expect("read");
    let cut = text.replacen(
        "    name: web\n    namespace: sa-token\n",
        "    name: web\n",
        1,
    );
    assert_ne!(cut, text, "the subject's namespace was in the start file");
    std::fs::write(&rbac, cut).expect("write");
    let r = sb.run(&["check", "sa-token", "least-privilege"]);
    assert_eq!(r.code, 1, "{r:?}");
    let warning = "RoleBinding sa-token/web: subjects[0].namespace is not set";
    assert_eq!(r.stdout.matches(warning).count(), 1, "{}", r.stdout);
}
