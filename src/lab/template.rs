//! Per-student rendering: files ending in `.tera` are rendered with tera
//! (1.x: the stable, widely used major; 2.x changes the template language
//! and we need nothing from it) and saved without the suffix. Templates get
//! `student`, `seed` and the functions `flag(name="...")`,
//! `choose(name="...", from=[...])`, `audit_log(name="...")` (the student's
//! generated audit log, see `seclab_checkers::audit::forensics`),
//! `audit_incident(name="...")` (what that log hides: `truth` and `decoys`,
//! for a lab's solution and wrong answers) and `image_id(name="...")` (the
//! engine's ID of an image seclab built, from the map the caller passes —
//! `<name>:original` for its build from the lab's start files: a lab's
//! fixture trivy report names the image it is of; with no image built the
//! render fails, naming the image).

use std::collections::{BTreeMap, HashMap};

use seclab_checkers::audit::forensics;
use seclab_checkers::flag;
use serde_json::Value;

use crate::error::InputError;
use crate::lab::LabFiles;

/// Who the files are rendered for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    /// The student id.
    pub id: String,
    /// The class (or personal) seed.
    pub seed: String,
}

impl Student {
    /// What per-student picks (a report question's CVE) are keyed on: the
    /// class seed and the student id, so students of one class differ.
    pub fn pick_key(&self) -> String {
        format!("{}/{}", self.seed, self.id)
    }

    /// The fixed student `seclab test` uses: id `test`, seed `test`.
    pub fn test() -> Self {
        Self {
            id: "test".into(),
            seed: "test".into(),
        }
    }

    /// This student's flag `name`.
    pub fn flag(&self, name: &str) -> String {
        flag::derive(&self.seed, &self.id, name)
    }
}

/// Image IDs by the lab's name for the image (`menu-aggregator` →
/// `sha256:…`), for templates' `image_id(name=...)`.
pub type ImageIds = BTreeMap<String, String>;

/// Renders one template text with no image built. `name` is used in
/// errors.
pub fn render(name: &str, text: &str, student: &Student) -> Result<String, InputError> {
    render_with(name, text, student, &ImageIds::new())
}

/// Renders one template text, `image_id(name=...)` taking its values from
/// `images`. `name` is used in errors.
pub fn render_with(
    name: &str,
    text: &str,
    student: &Student,
    images: &ImageIds,
) -> Result<String, InputError> {
    let mut tera = tera::Tera::default();
    let ids = images.clone();
    tera.register_function("image_id", move |args: &HashMap<String, Value>| {
        let name = args
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("image_id() needs name=\"...\""))?;
        ids.get(name)
            .map(|id| Value::String(id.clone()))
            .ok_or_else(|| tera::Error::msg(format!("image_id({name}): no image built yet")))
    });
    let (seed, id) = (student.seed.clone(), student.id.clone());
    tera.register_function("flag", move |args: &HashMap<String, Value>| {
        let name = args
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("flag() needs name=\"...\""))?;
        Ok(Value::String(flag::derive(&seed, &id, name)))
    });
    let (seed, id) = (student.seed.clone(), student.id.clone());
    tera.register_function("choose", move |args: &HashMap<String, Value>| {
        let name = args
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("choose() needs name=\"...\""))?;
        let choices: Vec<String> = args
            .get("from")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        flag::choose(&seed, &id, name, &choices)
            .map(|c| Value::String(c.to_string()))
            .ok_or_else(|| {
                tera::Error::msg("choose() needs from=[\"...\", ...], a list of strings")
            })
    });
    // The student's generated audit log (`audit_log(name="incident")`) and
    // what it hides (`audit_incident(name=...)`: `truth` and `decoys`, for
    // a lab's own solution and wrong answers).
    let (seed, id) = (student.seed.clone(), student.id.clone());
    tera.register_function("audit_log", move |args: &HashMap<String, Value>| {
        let name = incident_name(args, "audit_log")?;
        let seed = forensics::student_seed(&seed, &id, name);
        Ok(Value::String(forensics::incident(&seed).log))
    });
    let (seed, id) = (student.seed.clone(), student.id.clone());
    tera.register_function("audit_incident", move |args: &HashMap<String, Value>| {
        let name = incident_name(args, "audit_incident")?;
        let seed = forensics::student_seed(&seed, &id, name);
        let story = forensics::story(&seed);
        Ok(serde_json::json!({"truth": story.truth, "decoys": story.decoys}))
    });
    tera.add_raw_template(name, text)
        .map_err(|e| InputError::new(name, tera_message(&e)))?;
    let mut ctx = tera::Context::new();
    ctx.insert("student", &student.id);
    ctx.insert("seed", &student.seed);
    tera.render(name, &ctx)
        .map_err(|e| InputError::new(name, tera_message(&e)))
}

/// The `name="..."` argument of an audit template function.
fn incident_name<'a>(args: &'a HashMap<String, Value>, function: &str) -> tera::Result<&'a str> {
    args.get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| tera::Error::msg(format!("{function}() needs name=\"...\"")))
}

/// Tera errors nest their cause; join the chain into one line.
fn tera_message(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.join(": ")
}

/// Renders every `*.tera` file of a tree (dropping the suffix); other files
/// are copied as they are. `prefix` is prepended to names in errors. No
/// image is built: see [`render_tree_with`].
pub fn render_tree(
    files: &LabFiles,
    student: &Student,
    prefix: &str,
) -> Result<LabFiles, InputError> {
    render_tree_with(files, student, prefix, &ImageIds::new())
}

/// [`render_tree`] with the IDs of the images seclab built, for
/// `image_id(name=...)`.
pub fn render_tree_with(
    files: &LabFiles,
    student: &Student,
    prefix: &str,
    images: &ImageIds,
) -> Result<LabFiles, InputError> {
    let mut out = LabFiles::new();
    for (path, bytes) in files {
        if let Some(plain) = path.strip_suffix(".tera") {
            let name = format!("{prefix}{path}");
            let text = std::str::from_utf8(bytes)
                .map_err(|_| InputError::new(&name, "template is not UTF-8"))?;
            out.insert(
                plain.to_string(),
                render_with(&name, text, student, images)?.into_bytes(),
            );
        } else {
            out.insert(path.clone(), bytes.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_text() {
        let s = Student::test();
        let t = "user: {{ student }}\npassword: {{ flag(name=\"db\") }}\n";
        let a = render("t", t, &s).expect("renders");
        assert_eq!(a, render("t", t, &s).expect("renders"));
        assert_eq!(a, format!("user: test\npassword: {}\n", s.flag("db")));
        let other = Student {
            id: "alice".into(),
            seed: "test".into(),
        };
        assert_ne!(a, render("t", t, &other).expect("renders"));
    }

    #[test]
    fn image_ids_come_from_the_map_and_their_absence_is_named() {
        let t = "{\"ImageID\": \"{{ image_id(name=\"menu-aggregator\") }}\"}";
        let e = render("report.json.tera", t, &Student::test()).expect_err("no image");
        assert!(
            e.to_string()
                .contains("image_id(menu-aggregator): no image built yet"),
            "{e}"
        );
        let ids: ImageIds = [("menu-aggregator".to_string(), "sha256:abc".to_string())].into();
        let out = render_with("report.json.tera", t, &Student::test(), &ids).expect("renders");
        assert_eq!(out, "{\"ImageID\": \"sha256:abc\"}");
        let e = render_with("r.tera", "{{ image_id() }}", &Student::test(), &ids).expect_err("x");
        assert!(e.to_string().contains("name="), "{e}");
    }

    /// The trivy-scan lab's own fixture report (written by hand for the
    /// lab, see labs/trivy-scan/solution/REPORT-FIXTURE.md): it renders
    /// with the image's ID and reads as trivy's schema-v2 report, with the
    /// answers that file states.
    #[test]
    fn the_trivy_scan_fixture_report_renders_to_a_report_of_that_image() {
        use seclab_checkers::trivy::{self, question};
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/labs/trivy-scan/solution/report.json.tera"
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        let id = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let ids: ImageIds = [("menu-aggregator:original".to_string(), id.to_string())].into();
        let out = render_with("report.json.tera", &text, &Student::test(), &ids).expect("renders");
        let report = trivy::parse("report.json", &out).expect("a trivy report");
        assert_eq!(report.schema_version, Some(2));
        assert_eq!(report.image_id(), Some(id));
        let classes: Vec<&str> = report
            .results
            .iter()
            .map(trivy::TrivyResult::class)
            .collect();
        assert_eq!(classes, ["os-pkgs", "lang-pkgs"]);
        // The answers REPORT-FIXTURE.md gives, worked out by hand.
        let ask = |q| question::truth(q, &report, "test", "q").expect("askable");
        assert_eq!(
            ask(question::Question::CriticalCount),
            question::Truth::Count(3)
        );
        let question::Truth::Ids(fixed) = ask(question::Question::FixedHighCritical) else {
            panic!("ids")
        };
        assert_eq!(
            fixed.into_iter().collect::<Vec<_>>(),
            [
                "CVE-2021-33503",
                "CVE-2023-37920",
                "CVE-2024-2961",
                "CVE-2024-33599",
                "CVE-2024-45491",
                "CVE-2024-45492",
                "CVE-2024-6345",
                "CVE-2025-47273"
            ]
        );
        let question::Truth::Layers {
            right,
            packages,
            findings,
            ..
        } = ask(question::Question::LayerMostFindings)
        else {
            panic!("layers")
        };
        assert_eq!(
            (packages.into_iter().collect::<Vec<_>>(), findings),
            (vec!["urllib3".to_string()], 5)
        );
        assert_eq!(
            right.into_iter().collect::<Vec<_>>(),
            ["sha256:60cdba6c4cce278ccfdc5b16070ff0ff168aa46c3ebe9f47d559c105e40b41be"]
        );
    }

    #[test]
    fn the_audit_log_is_the_students_own_and_its_truth_matches() {
        let alice = Student {
            id: "alice".into(),
            seed: "class-1".into(),
        };
        let bob = Student {
            id: "bob".into(),
            ..alice.clone()
        };
        let t = "{{ audit_log(name=\"incident\") }}";
        let a = render("audit.log.tera", t, &alice).expect("renders");
        assert_eq!(a, render("audit.log.tera", t, &alice).expect("renders"));
        assert_ne!(a, render("audit.log.tera", t, &bob).expect("renders"));
        let seed = forensics::student_seed("class-1", "alice", "incident");
        assert_eq!(a, forensics::incident(&seed).log);
        // The truth a solution template reads is that log's.
        let secret = render(
            "answers.yaml.tera",
            "{% set i = audit_incident(name=\"incident\") %}{{ i.truth.secret }}",
            &alice,
        )
        .expect("renders");
        assert_eq!(secret, forensics::story(&seed).truth.secret);
        assert!(a.contains(&format!("/secrets/{secret}\"")));
        let e = render("x.tera", "{{ audit_log() }}", &alice).expect_err("no name");
        assert!(e.to_string().contains("audit_log() needs name="), "{e}");
    }

    #[test]
    fn template_errors_name_the_file() {
        let e = render("x.yaml.tera", "{{ flag() }}", &Student::test()).expect_err("no name");
        assert!(e.to_string().starts_with("x.yaml.tera: "), "{e}");
        assert!(e.to_string().contains("name"), "{e}");
        let e = render("y.tera", "{% if %}", &Student::test()).expect_err("syntax");
        assert!(e.to_string().starts_with("y.tera: "), "{e}");
    }
}
