//! The image lab against a real engine: `cargo test --test images`.
//!
//! Builds menu-aggregator from the trivy-scan lab's files (start, the
//! reference solution, each wrong way to hide the build secret) on the
//! stand-ins of `tests/local-images.sh`, runs the app's own unit tests
//! inside the built image, reads the layers and grades the `image:` check.
//! Without an engine or stand-ins each test prints `SKIP: <why>` and
//! passes, unless `SECLAB_REQUIRE_DOCKER=1`. Every test builds under its
//! own lab id and removes its images by that label.

use std::collections::HashMap;
use std::path::Path;

use bollard::query_parameters::ListImagesOptionsBuilder;
use seclab::lab::{Catalog, Lab, LabFiles, Student};
use seclab::shell::docker::{Engine, ImageMap, Started, built_tag, container_name, labels};
use seclab_checkers::Status;
use seclab_checkers::container::RunConfig;
use seclab_checkers::image::BuiltImages;
use seclab_checkers::image::grade::{ImageCheck, grade_image};
use seclab_checkers::image::inventory::final_fs;
use seclab_checkers::image::secret::SecretSpec;

mod stand_ins;

const FILE: &str = "tmp/partner-api-token.txt";

use stand_ins::setup;

fn map_or_skip(name: &str) -> Option<ImageMap> {
    match setup() {
        Ok(map) => Some(map.clone()),
        Err(why) => {
            assert!(
                std::env::var("SECLAB_REQUIRE_DOCKER").as_deref() != Ok("1"),
                "Docker is required (SECLAB_REQUIRE_DOCKER=1): {why}"
            );
            println!("SKIP: {name}: {why}");
            None
        }
    }
}

fn lab() -> Lab {
    let catalog = Catalog::load(None).expect("built-in labs");
    catalog
        .labs
        .into_iter()
        .find(|l| l.spec.id == "trivy-scan")
        .expect("trivy-scan")
}

/// start/, with solution/ and then `case` (a wrong/ or alternatives/ dir)
/// laid over it when given, rendered for the test student.
fn files(lab: &Lab, layers: &[&str]) -> LabFiles {
    let student = Student::test();
    let mut out = seclab::lab::validate::rendered(lab, "start/", &student).expect("start");
    for dir in layers {
        out.extend(seclab::lab::validate::rendered(lab, dir, &student).expect("overlay"));
    }
    out.remove("expect.yaml");
    out.remove("about.yaml");
    out
}

fn write(files: &LabFiles) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, bytes) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

fn check() -> ImageCheck {
    ImageCheck {
        image: "menu-aggregator".into(),
        non_root: true,
        no_secret: Some(SecretSpec {
            flag: Some("layer-secret".into()),
            ..SecretSpec::default()
        }),
        no_shell: true,
        no_package_manager: true,
        ..ImageCheck::default()
    }
}

/// Builds the files as lab `lab`'s menu-aggregator, tagged as `variant`,
/// and reads it with the flag's needle.
async fn build(
    engine: &Engine,
    lab_id: &str,
    variant: &str,
    files: &LabFiles,
    map: &ImageMap,
) -> seclab_checkers::image::BuiltImage {
    let dir = write(files);
    let tag = built_tag(lab_id, "menu-aggregator", variant, false);
    let built = engine
        .build_for_lab(
            lab_id,
            "test",
            "menu-aggregator",
            dir.path(),
            "Dockerfile",
            &tag,
            map,
        )
        .await
        .expect("engine");
    let id = built.unwrap_or_else(|e| panic!("{variant} does not build: {e}"));
    assert!(id.starts_with("sha256:"), "{id}");
    let flag = Student::test().flag("layer-secret");
    let needle = check()
        .no_secret
        .unwrap()
        .needle(&|_| flag.clone())
        .expect("needle");
    let img = engine
        .built_image("menu-aggregator", &tag, &[needle])
        .await
        .expect("read the image");
    assert_eq!(img.id, id);
    img
}

async fn cleanup(engine: &Engine, lab_id: &str) {
    engine.remove_lab(lab_id).await.expect("remove_lab");
    engine
        .remove_lab_images(lab_id)
        .await
        .expect("remove images");
    let docker = bollard::Docker::connect_with_defaults().unwrap();
    let filter = HashMap::from([("label", vec![format!("{}={lab_id}", labels::LAB)])]);
    let left = docker
        .list_images(Some(
            ListImagesOptionsBuilder::new().filters(&filter).build(),
        ))
        .await
        .unwrap();
    assert!(
        left.iter()
            .all(|i| i.labels.get(labels::CACHE).is_some_and(|v| v == "true")),
        "{lab_id}: images left: {left:?}"
    );
    // The stand-ins (seclab.dev/cache=true) are never removed.
    assert!(
        engine
            .image_exists("seclab-local/python:3.11-slim-bookworm")
            .await
            .unwrap()
    );
}

/// Removes the lab's containers and images even when a test fails.
struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let lab = self.0.clone();
        runtime().block_on(async {
            if let Ok(engine) = Engine::connect().await {
                let _ = engine.remove_lab(&lab).await;
                let _ = engine.remove_lab_images(&lab).await;
            }
        });
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[test]
fn the_start_image_runs_the_apps_tests_and_holds_the_deleted_secret() {
    let Some(map) = map_or_skip("start") else {
        return;
    };
    let lab = lab();
    let lab_id = format!("t{}-images-start", std::process::id());
    let _cleanup = Cleanup(lab_id.clone());
    runtime().block_on(async {
        let engine = Engine::connect().await.expect("connect");
        let img = build(&engine, &lab_id, "start", &files(&lab, &[]), &map).await;
        // The app's own unit tests, inside the image (python is there).
        let tag = built_tag(&lab_id, "menu-aggregator", "start", false);
        let rc = RunConfig {
            service: "unittest".into(),
            image: tag,
            command: Some(vec!["sleep".into(), "300".into()]),
            ..RunConfig::default()
        };
        let started = engine
            .run_service(&lab_id, "test", &rc, Path::new("/"), &map)
            .await
            .expect("engine");
        assert!(matches!(started, Started::Container(_)), "{started:?}");
        let out = engine
            .exec(
                &container_name(&lab_id, "unittest"),
                &[
                    "python3".into(),
                    "-m".into(),
                    "unittest".into(),
                    "discover".into(),
                    "-s".into(),
                    "app".into(),
                ],
                None,
            )
            .await
            .expect("exec");
        assert_eq!(out.exit, Some(0), "{}", out.stderr);
        assert!(out.stderr.contains("Ran 8 tests"), "{}", out.stderr);

        // Root, and the history shows the COPY of the token and its rm.
        assert_eq!(img.user, "");
        assert!(
            img.history
                .iter()
                .any(|h| h.created_by.contains("rm -f /tmp/partner-api-token.txt"))
        );
        let copied: Vec<usize> = img
            .layers
            .iter()
            .filter(|l| l.files.iter().any(|f| f.path == FILE))
            .map(|l| l.index)
            .collect();
        let deleted: Vec<usize> = img
            .layers
            .iter()
            .filter(|l| l.deleted.iter().any(|d| d == FILE))
            .map(|l| l.index)
            .collect();
        assert_eq!(copied.len(), 1, "{copied:?}");
        assert_eq!(deleted.len(), 1, "{deleted:?}");
        assert!(copied[0] < deleted[0]);
        // Gone from the container's view, found in the layer below.
        assert!(!final_fs(&img.layers).contains_key(FILE));
        let hits: Vec<(Option<usize>, &str)> = img
            .secrets
            .iter()
            .map(|h| (h.layer, h.path.as_str()))
            .collect();
        assert_eq!(hits, [(Some(copied[0]), "/tmp/partner-api-token.txt")]);
        let v = grade_image(
            &check(),
            Some(&BuiltImages::from([("menu-aggregator".into(), img)])),
        );
        let msgs: Vec<&str> = v.findings.iter().map(|f| f.message.as_str()).collect();
        assert!(msgs.iter().any(|m| m.contains("runs as root")), "{msgs:#?}");
        assert!(
            msgs.iter().any(|m| m.contains("a later layer deletes it")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("has a shell") && m.contains("/usr/bin/dash")),
            "{msgs:#?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("package manager") && m.contains("/usr/bin/apt-get")),
            "{msgs:#?}"
        );
        cleanup(&engine, &lab_id).await;
    });
}

#[test]
fn the_hardened_image_passes_and_every_hiding_technique_is_caught() {
    let Some(map) = map_or_skip("hardened") else {
        return;
    };
    let lab = lab();
    let lab_id = format!("t{}-images-hiding", std::process::id());
    let _cleanup = Cleanup(lab_id.clone());
    runtime().block_on(async {
        let engine = Engine::connect().await.expect("connect");
        let solution = build(
            &engine,
            &lab_id,
            "solution",
            &files(&lab, &["solution/"]),
            &map,
        )
        .await;
        assert_eq!(solution.user, "65532");
        assert!(solution.secrets.is_empty(), "{:?}", solution.secrets);
        let v = grade_image(
            &check(),
            Some(&BuiltImages::from([("menu-aggregator".into(), solution)])),
        );
        assert_eq!(v.status, Status::Pass, "{:#?}", v.findings);

        // Each way to hide the token, and where the check must find it.
        let cases = [
            (
                "secret-removed-later",
                "/tmp/partner-api-token.txt",
                "a later layer deletes it",
            ),
            (
                "secret-moved",
                "/tmp/partner-api-token.txt",
                "a later layer deletes it",
            ),
            ("secret-moved", "/tmp/.cache", "holds the flag layer-secret"),
            (
                "secret-tarred",
                "/tmp/backup.tgz (in its member secrets/partner-api-token.txt)",
                "a later layer deletes it",
            ),
            (
                "secret-in-env",
                "in its config: Env PARTNER_API_TOKEN",
                "config",
            ),
            (
                "secret-as-build-arg",
                "in its config: history step",
                "ARG PARTNER_API_TOKEN=",
            ),
        ];
        let mut built: HashMap<&str, Vec<String>> = HashMap::new();
        for (case, place, also) in cases {
            if !built.contains_key(case) {
                let dir = format!("wrong/{case}/");
                let img = build(
                    &engine,
                    &lab_id,
                    case,
                    &files(&lab, &["solution/", &dir]),
                    &map,
                )
                .await;
                let v = grade_image(
                    &check(),
                    Some(&BuiltImages::from([("menu-aggregator".into(), img)])),
                );
                assert_eq!(v.status, Status::Fail, "{case}");
                built.insert(case, v.findings.iter().map(|f| f.message.clone()).collect());
            }
            let msgs = &built[case];
            assert!(
                msgs.iter().any(|m| m.contains(place) && m.contains(also)),
                "{case}: no finding with {place:?} and {also:?}: {msgs:#?}"
            );
        }
        cleanup(&engine, &lab_id).await;
    });
}

/// The inventory against real builds: one image per hiding technique, from
/// the stand-in's own files and a small local Python package (no network),
/// each caught as exactly that technique; the clean build shows no blind
/// spot.
#[test]
fn every_hiding_technique_is_caught_by_the_inventory() {
    use seclab_checkers::image::packages::{Technique, inventory};
    let Some(map) = map_or_skip("inventory") else {
        return;
    };
    let lab_id = format!("t{}-images-inventory", std::process::id());
    let _cleanup = Cleanup(lab_id.clone());
    let base = "FROM python:3.11.4-bookworm\nCOPY lib/ /app/lib/\nENV PYTHONPATH=/app/lib\n";
    let cases: &[(&str, &str, &[Technique])] = &[
        ("clean", "", &[]),
        (
            "metadata-deleted",
            "RUN rm -rf /app/lib/vendored-0.4.2.dist-info\n",
            &[Technique::LanguageMetadata],
        ),
        (
            "metadata-symlinked",
            "RUN mv /app/lib/vendored-0.4.2.dist-info /app/m && ln -s /app/m /app/lib/vendored-0.4.2.dist-info\n",
            &[Technique::SymlinkedManifest],
        ),
        (
            "packed",
            "RUN mkdir /app/bin && cp /usr/bin/python3.11 /app/bin/py && gzexe /app/bin/py && rm /app/bin/py~\n",
            &[Technique::PackedBinary],
        ),
        (
            "status-removed",
            "RUN rm /var/lib/dpkg/status\n",
            &[Technique::OsPackageDb, Technique::UnlistedNativeCode],
        ),
        (
            "os-release-removed",
            "RUN rm /etc/os-release /usr/lib/os-release /etc/debian_version\n",
            &[Technique::OsIdentity],
        ),
        (
            "flattened",
            "FROM scratch\nCOPY --from=0 /usr /usr\nCOPY --from=0 /etc /etc\nCOPY --from=0 /app /app\n",
            &[Technique::OsPackageDb, Technique::UnlistedNativeCode],
        ),
    ];
    let mut files = LabFiles::new();
    files.insert(
        "lib/vendored/__init__.py".into(),
        b"__version__ = \"0.4.2\"\n".to_vec(),
    );
    files.insert(
        "lib/vendored-0.4.2.dist-info/METADATA".into(),
        b"Metadata-Version: 2.1\nName: vendored\nVersion: 0.4.2\n".to_vec(),
    );
    files.insert(
        "lib/vendored-0.4.2.dist-info/RECORD".into(),
        b"vendored/__init__.py,,\n".to_vec(),
    );
    runtime().block_on(async {
        let engine = Engine::connect().await.expect("connect");
        for (case, steps, want) in cases {
            files.insert("Dockerfile".into(), format!("{base}{steps}").into_bytes());
            let img = build(&engine, &lab_id, case, &files, &map).await;
            let inv = inventory(&img);
            let mut got: Vec<Technique> = inv.blind_spots.iter().map(|b| b.technique).collect();
            got.dedup();
            assert_eq!(&got, want, "{case}: {:#?}", inv.blind_spots);
            if *case == "metadata-deleted" {
                assert!(
                    inv.blind_spots[0].what.contains("vendored 0.4.2"),
                    "the version from the code: {:?}",
                    inv.blind_spots[0]
                );
            }
            if *case == "clean" {
                assert_eq!(inv.scanner.os.as_deref(), Some("debian 12"));
                assert!(inv.scanner.packages.iter().any(|p| p.name == "vendored"));
            }
        }
        cleanup(&engine, &lab_id).await;
    });
}
