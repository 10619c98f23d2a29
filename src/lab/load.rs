//! Loading labs: the built-in ones embedded in the binary (it runs from
//! anywhere, like rustlings) and external ones from `--labs DIR`. Every
//! lab's files are read into memory once; a duplicate id is an error.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use sha2::{Digest, Sha256};

use crate::error::InputError;
use crate::lab::model::{FORMAT_VERSION, LabSpec};
use crate::yaml;

static BUILTIN_LABS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/labs");
static BUILTIN_MANIFESTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/manifests");

/// Files of a tree by relative path (always `/`-separated).
pub type LabFiles = BTreeMap<String, Vec<u8>>;

/// Where a lab came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary.
    BuiltIn,
    /// Loaded from a folder given with `--labs`.
    External(PathBuf),
}

/// A loaded lab: its spec and every file it ships.
#[derive(Debug, Clone)]
pub struct Lab {
    /// The parsed `lab.yaml`.
    pub spec: LabSpec,
    /// Everything under `labs/<id>/`.
    pub files: LabFiles,
    /// Everything under `manifests/<id>/` (what seclab applies itself).
    pub manifests: LabFiles,
    /// Built-in or external.
    pub origin: Origin,
    /// How files of this lab are named in messages (`labs/<id>/`).
    pub display_root: String,
    /// SHA-256 over the lab's files and manifests: progress recorded
    /// against another hash is stale.
    pub content_hash: String,
}

impl Lab {
    /// Files under `dir/` (e.g. `start/`), with that prefix removed.
    pub fn tree(&self, dir: &str) -> LabFiles {
        subtree(&self.files, dir)
    }

    /// The names of the `wrong/<name>/` cases.
    pub fn wrong_cases(&self) -> Vec<String> {
        self.cases_under("wrong/")
    }

    /// The names of the lab's `alternatives/<name>/` cases, sorted: right
    /// answers written differently from the reference solution.
    pub fn alternative_cases(&self) -> Vec<String> {
        self.cases_under("alternatives/")
    }

    fn cases_under(&self, dir: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(dir))
            .filter_map(|p| p.split_once('/').map(|(n, _)| n.to_string()))
            .collect();
        names.dedup();
        names
    }

    /// A task's instructions (Markdown), or a note that the file is missing.
    pub fn instructions(&self, task: &crate::lab::TaskSpec) -> String {
        self.files
            .get(&task.instructions)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// The display name of a lab file: `labs/<id>/<path>`.
    pub fn file_name(&self, path: &str) -> String {
        format!("{}{path}", self.display_root)
    }
}

/// Files under `dir/`, with the prefix removed.
pub fn subtree(files: &LabFiles, dir: &str) -> LabFiles {
    files
        .iter()
        .filter_map(|(p, b)| {
            p.strip_prefix(dir)
                .map(|rest| (rest.to_string(), b.clone()))
        })
        .collect()
}

/// All labs at hand, built-in first.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The labs, in listing order.
    pub labs: Vec<Lab>,
    /// Labs that did not load, by folder name, with the reason. A broken
    /// lab fails only the commands that use it (and `validate`); the
    /// others work as usual.
    pub broken: Vec<(String, InputError)>,
}

impl Catalog {
    /// The built-in labs, plus those in `external` (a folder of lab
    /// folders, or one lab folder) when given. Only an unreadable
    /// `external` folder is an error; a lab that does not load is kept in
    /// [`Catalog::broken`].
    pub fn load(external: Option<&Path>) -> Result<Self, InputError> {
        let (mut labs, mut broken) = builtin();
        if let Some(dir) = external {
            for (folder, loaded) in load_dir_each(dir)? {
                let lab = match loaded {
                    Ok(lab) => lab,
                    Err(e) => {
                        broken.push((folder, e));
                        continue;
                    }
                };
                if let Some(other) = labs.iter().find(|l| l.spec.id == lab.spec.id) {
                    let e = InputError::new(
                        format!("{}lab.yaml", lab.display_root),
                        format!(
                            "lab id `{}` is already used by {}lab.yaml",
                            lab.spec.id, other.display_root
                        ),
                    );
                    broken.push((folder, e));
                    continue;
                }
                labs.push(lab);
            }
        }
        Ok(Self { labs, broken })
    }

    /// The lab with this id, the reason it did not load, or an error
    /// listing the ids there are.
    pub fn get(&self, id: &str) -> Result<&Lab, anyhow::Error> {
        if let Some(lab) = self.labs.iter().find(|l| l.spec.id == id) {
            return Ok(lab);
        }
        if let Some((_, e)) = self.broken.iter().find(|(folder, _)| folder == id) {
            return Err(e.clone().into());
        }
        Err(anyhow::anyhow!(
            "unknown lab `{id}`; labs: {}",
            self.labs
                .iter()
                .map(|l| l.spec.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Tells on stderr which labs did not load (for commands that list or
    /// use every lab).
    pub fn warn_broken(&self) {
        for (folder, e) in &self.broken {
            eprintln!("warning: lab `{folder}` is left out: {e}");
        }
    }

    /// Whether any lab came from outside the binary.
    pub fn has_external(&self) -> bool {
        self.labs.iter().any(|l| l.origin != Origin::BuiltIn)
    }
}

fn builtin() -> (Vec<Lab>, Vec<(String, InputError)>) {
    let mut labs = Vec::new();
    let mut broken = Vec::new();
    let mut dirs: Vec<&Dir<'_>> = BUILTIN_LABS.dirs().collect();
    dirs.sort_by_key(|d| d.path());
    for dir in dirs {
        let id = dir.path().to_string_lossy().into_owned();
        let mut files = LabFiles::new();
        collect_embedded(dir, dir.path(), &mut files);
        let mut manifests = LabFiles::new();
        if let Some(m) = BUILTIN_MANIFESTS.get_dir(&id) {
            collect_embedded(m, m.path(), &mut manifests);
        }
        match build(
            files,
            manifests,
            Origin::BuiltIn,
            format!("labs/{id}/"),
            &id,
        ) {
            Ok(lab) => labs.push(lab),
            Err(e) => broken.push((id, e)),
        }
    }
    labs.sort_by_key(|l| order(&l.spec.id));
    (labs, broken)
}

/// Built-in labs in course order; unknown ids after, by name.
fn order(id: &str) -> (usize, String) {
    const COURSE: [&str; 6] = [
        "principles",
        "trivy-scan",
        "container-root",
        "pss-scissors",
        "sa-token",
        "netpol-three-pods",
    ];
    (
        COURSE.iter().position(|c| *c == id).unwrap_or(COURSE.len()),
        id.to_string(),
    )
}

fn collect_embedded(dir: &Dir<'_>, root: &Path, out: &mut LabFiles) {
    for f in dir.files() {
        if let Ok(rel) = f.path().strip_prefix(root) {
            out.insert(slash_path(rel), f.contents().to_vec());
        }
    }
    for d in dir.dirs() {
        collect_embedded(d, root, out);
    }
}

fn slash_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads every file below `root` into memory.
pub fn read_tree(root: &Path) -> Result<LabFiles, InputError> {
    let mut out = LabFiles::new();
    read_tree_into(root, root, &mut out)?;
    Ok(out)
}

fn read_tree_into(root: &Path, dir: &Path, out: &mut LabFiles) -> Result<(), InputError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        InputError::new(
            dir.display().to_string(),
            format!("cannot read folder: {e}"),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            read_tree_into(root, &p, out)?;
        } else if p.is_file() {
            let bytes = std::fs::read(&p).map_err(|e| {
                InputError::new(p.display().to_string(), format!("cannot read: {e}"))
            })?;
            if let Ok(rel) = p.strip_prefix(root) {
                out.insert(slash_path(rel), bytes);
            }
        }
    }
    Ok(())
}

/// Loads external labs: `dir` is one lab (has `lab.yaml`) or a folder of
/// labs. A sibling `manifests/<id>/` next to the labs folder is used when
/// present.
pub fn load_dir(dir: &Path) -> Result<Vec<Lab>, InputError> {
    load_dir_each(dir)?.into_iter().map(|(_, l)| l).collect()
}

/// One lab folder's outcome: the lab, or why it did not load.
pub type LabLoad = Result<Lab, InputError>;

/// Like [`load_dir`], one result per lab folder (by folder name), so one
/// broken lab does not hide the others.
pub fn load_dir_each(dir: &Path) -> Result<Vec<(String, LabLoad)>, InputError> {
    let lab_dirs: Vec<PathBuf> = if dir.join("lab.yaml").is_file() {
        vec![dir.to_path_buf()]
    } else {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            InputError::new(
                dir.display().to_string(),
                format!("cannot read labs folder: {e}"),
            )
        })?;
        let mut v: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("lab.yaml").is_file())
            .collect();
        v.sort();
        v
    };
    let mut labs = Vec::new();
    for lab_dir in lab_dirs {
        let id = lab_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let one = || {
            let files = read_tree(&lab_dir)?;
            let manifests_dir = lab_dir
                .parent()
                .and_then(Path::parent)
                .map(|p| p.join("manifests").join(&id));
            let manifests = match manifests_dir {
                Some(m) if m.is_dir() => read_tree(&m)?,
                _ => LabFiles::new(),
            };
            let root = format!("{}/", lab_dir.display());
            build(
                files,
                manifests,
                Origin::External(lab_dir.clone()),
                root,
                &id,
            )
        };
        labs.push((id.clone(), one()));
    }
    Ok(labs)
}

fn build(
    files: LabFiles,
    manifests: LabFiles,
    origin: Origin,
    display_root: String,
    folder: &str,
) -> Result<Lab, InputError> {
    let name = format!("{display_root}lab.yaml");
    let text = files
        .get("lab.yaml")
        .ok_or_else(|| InputError::new(&name, "missing"))?;
    let text = std::str::from_utf8(text).map_err(|_| InputError::new(&name, "not UTF-8"))?;
    let spec: LabSpec = serde_saphyr::from_str(text).map_err(|e| yaml::saphyr_error(&name, &e))?;
    if spec.format_version != FORMAT_VERSION {
        return Err(InputError::new(
            &name,
            format!(
                "format_version {} is not supported; this seclab reads format_version {FORMAT_VERSION}",
                spec.format_version
            ),
        ));
    }
    if spec.id != folder {
        return Err(InputError::new(
            &name,
            format!(
                "id `{}` must equal the lab's folder name `{folder}`",
                spec.id
            ),
        ));
    }
    let content_hash = hash(&files, &manifests);
    Ok(Lab {
        spec,
        files,
        manifests,
        origin,
        display_root,
        content_hash,
    })
}

fn hash(files: &LabFiles, manifests: &LabFiles) -> String {
    let mut h = Sha256::new();
    for (tag, tree) in [("lab", files), ("manifests", manifests)] {
        for (p, b) in tree {
            let mut head = String::new();
            let _ = write!(head, "{tag}/{p}\0{}\0", b.len());
            h.update(head.as_bytes());
            h.update(b);
        }
    }
    hex::encode(h.finalize())
}
