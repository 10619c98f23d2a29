//! Per-student rendering: files ending in `.tera` are rendered with tera
//! (1.x: the stable, widely used major; 2.x changes the template language
//! and we need nothing from it) and saved without the suffix. Templates get
//! `student`, `seed` and the function `flag(name="...")`.

use std::collections::HashMap;

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

/// Renders one template text. `name` is used in errors.
pub fn render(name: &str, text: &str, student: &Student) -> Result<String, InputError> {
    let mut tera = tera::Tera::default();
    let (seed, id) = (student.seed.clone(), student.id.clone());
    tera.register_function("flag", move |args: &HashMap<String, Value>| {
        let name = args
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("flag() needs name=\"...\""))?;
        Ok(Value::String(flag::derive(&seed, &id, name)))
    });
    tera.add_raw_template(name, text)
        .map_err(|e| InputError::new(name, tera_message(&e)))?;
    let mut ctx = tera::Context::new();
    ctx.insert("student", &student.id);
    ctx.insert("seed", &student.seed);
    tera.render(name, &ctx)
        .map_err(|e| InputError::new(name, tera_message(&e)))
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
/// are copied as they are. `prefix` is prepended to names in errors.
pub fn render_tree(
    files: &LabFiles,
    student: &Student,
    prefix: &str,
) -> Result<LabFiles, InputError> {
    let mut out = LabFiles::new();
    for (path, bytes) in files {
        if let Some(plain) = path.strip_suffix(".tera") {
            let name = format!("{prefix}{path}");
            let text = std::str::from_utf8(bytes)
                .map_err(|_| InputError::new(&name, "template is not UTF-8"))?;
            out.insert(
                plain.to_string(),
                render(&name, text, student)?.into_bytes(),
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
    fn template_errors_name_the_file() {
        let e = render("x.yaml.tera", "{{ flag() }}", &Student::test()).expect_err("no name");
        assert!(e.to_string().starts_with("x.yaml.tera: "), "{e}");
        assert!(e.to_string().contains("name"), "{e}");
        let e = render("y.tera", "{% if %}", &Student::test()).expect_err("syntax");
        assert!(e.to_string().starts_with("y.tera: "), "{e}");
    }
}
