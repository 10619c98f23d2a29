//! The JUnit XML that `seclab test --junit` and `seclab progress --junit`
//! write, read back with an independent, strict XML parser (roxmltree, not
//! the writer's own library): well-formed, escaped, and with counts that
//! agree with the cases, as CI systems read them.

mod common;

use common::{Sandbox, write_files};

/// A lab with a passing task, a task whose wrong case passes by accident
/// (a failure whose message must be escaped), and a cluster-only task
/// (skipped offline).
fn lab(root: &std::path::Path) {
    let lab = "format_version: 1\nid: xml\ntitle: XML\nsummary: JUnit test lab.\ntasks:\n  - id: fix\n    title: Fix\n    instructions: fix.md\n    hints: [\"h\"]\n    checks:\n      - manifest: {target: deployment/app, path: spec.replicas, op: equals, value: 2, message: \"replicas <must> be 2 & \\\"quoted\\\" 'too'\"}\n  - id: live\n    title: Live\n    instructions: fix.md\n    hints: [\"h\"]\n    checks:\n      - manifest: {target: deployment/app, path: spec.replicas, op: equals, value: 2, source: cluster}\n";
    write_files(
        &root.join("xml"),
        &[
            ("lab.yaml", lab),
            ("fix.md", "# Fix\n"),
            (
                "start/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n",
            ),
            (
                "solution/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n",
            ),
            // Known-wrong, but in fact right: its case fails.
            (
                "wrong/same/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n",
            ),
            ("wrong/same/expect.yaml", "fail: [fix]\n"),
            // An alternative that is in fact wrong: fails with the finding's
            // message, which holds every character XML must escape.
            (
                "alternatives/three/app.yaml",
                "kind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 3\n",
            ),
        ],
    );
}

fn count(node: roxmltree::Node<'_, '_>, attr: &str) -> usize {
    node.attribute(attr)
        .unwrap_or_else(|| panic!("<{}> has no {attr}", node.tag_name().name()))
        .parse()
        .expect("a count")
}

#[test]
fn test_report_is_valid_junit_with_consistent_counts() {
    let sb = Sandbox::new();
    lab(&sb.work().join("labs"));
    let r = sb.run(&[
        "--labs",
        "labs",
        "test",
        "--offline",
        "xml",
        "--junit",
        "out.xml",
    ]);
    assert_eq!(r.code, 1, "one case fails: {r:?}");
    let xml = std::fs::read_to_string(sb.work().join("out.xml")).expect("report");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{xml}"
    );
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1, "one suite per lab");
    let suite = suites[0];
    assert_eq!(suite.attribute("name"), Some("xml"));
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    // start, solution, wrong/same, alternatives/three × fix, live.
    assert_eq!(cases.len(), 8, "{xml}");
    let with = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
            .count()
    };
    assert_eq!(count(suite, "tests"), cases.len());
    assert_eq!(count(suite, "failures"), with("failure"));
    assert_eq!(count(suite, "skipped"), with("skipped"));
    assert_eq!(count(root, "tests"), cases.len());
    assert_eq!(count(root, "failures"), with("failure"));
    assert_eq!(with("failure"), 2, "{xml}");
    assert_eq!(with("skipped"), 4, "the live task of each variant: {xml}");
    // Messages come back exactly as written, special characters and all.
    let messages: Vec<&str> = cases
        .iter()
        .flat_map(roxmltree::Node::children)
        .filter(|n| n.has_tag_name("failure"))
        .filter_map(|n| n.attribute("message"))
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("replicas <must> be 2 & \"quoted\" 'too'")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("passes, but this known-wrong attempt must fail it")),
        "{messages:?}"
    );
    let names: Vec<&str> = cases.iter().filter_map(|c| c.attribute("name")).collect();
    assert!(names.contains(&"xml/alternatives/three/fix"), "{names:?}");
}

#[test]
fn progress_report_is_valid_junit() {
    let sb = Sandbox::new();
    lab(&sb.work().join("labs"));
    assert_eq!(sb.run(&["--labs", "labs", "start", "xml"]).code, 0);
    let r = sb.run(&["--labs", "labs", "check", "xml"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = sb.run(&["--labs", "labs", "progress", "--junit", "progress.xml"]);
    assert_eq!(r.code, 0, "{r:?}");
    let xml = std::fs::read_to_string(sb.work().join("progress.xml")).expect("report");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert!(!cases.is_empty(), "{xml}");
    assert_eq!(count(root, "tests"), cases.len(), "{xml}");
}
