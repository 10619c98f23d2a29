//! The command line. The doc comments here are the `--help` text. Parsing
//! is pure (clap derive); `commands` does the work.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Hands-on container and Kubernetes security labs, graded offline first.
///
/// Run with no arguments to see the labs. Exit codes: 0 all good, 1 checks
/// failed or findings, 2 usage or input error.
#[derive(Debug, Parser)]
#[command(name = "seclab", version, propagate_version = false)]
pub struct Cli {
    /// Also load the labs in this folder (a folder of lab folders, or one
    /// lab folder).
    #[arg(long, global = true, env = "SECLAB_LABS", value_name = "DIR")]
    pub labs: Option<PathBuf>,

    /// Run this image wherever a lab names FROM (containers, builds):
    /// `FROM=TO`, repeatable; for offline classrooms and tests with local
    /// stand-ins (`tests/local-images.sh` prints the map for this machine).
    #[arg(
        long = "image-map",
        global = true,
        env = "SECLAB_IMAGE_MAP",
        value_delimiter = ',',
        value_name = "FROM=TO"
    )]
    pub image_map: Vec<String>,

    /// The Kubernetes context for cluster labs (`kind-seclab`, the context
    /// `seclab up` creates, when not given). The kubeconfig's
    /// current-context is never used.
    #[arg(long, global = true, env = "SECLAB_CONTEXT", value_name = "CONTEXT")]
    pub context: Option<String>,

    /// The command; none lists the labs.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output formats shared by commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    /// For people.
    #[default]
    Text,
    /// For programs.
    Json,
}

/// Output formats of `progress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ProgressOutput {
    /// For people.
    #[default]
    Text,
    /// For programs (an instructor collects these).
    Json,
    /// A Markdown table.
    Md,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the labs, their tasks and what they need.
    List {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// Print a lab's or task's instructions and the hints revealed so far.
    Show {
        /// The lab id.
        lab: String,
        /// A task id; all tasks when omitted.
        task: Option<String>,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// Create the lab's workspace from its start files.
    Start {
        /// The lab id.
        lab: String,
        /// Where to create it (default ./seclab/<lab>).
        #[arg(long, env = "SECLAB_WORKSPACE", value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Replace an existing workspace (it is backed up first).
        #[arg(long)]
        force: bool,
    },
    /// Restore the workspace (or one task's files) to the start state,
    /// keeping a backup first.
    Reset {
        /// The lab id.
        lab: String,
        /// Only this task's files.
        #[arg(long, conflicts_with = "restore")]
        task: Option<String>,
        /// Undo a reset or a `start --force`: put back the latest backup
        /// (the workspace as it is now is backed up first).
        #[arg(long)]
        restore: bool,
    },
    /// Grade the workspace: one task, or all of them.
    Check {
        /// The lab id.
        lab: String,
        /// A task id; all tasks when omitted.
        task: Option<String>,
        /// Re-grade on every save (200 ms debounce).
        #[arg(long)]
        watch: bool,
        /// With --watch: poll for changes where file events do not arrive.
        #[arg(long, requires = "watch")]
        poll: bool,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
        /// Also write a JUnit XML report.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Create seclab's kind cluster (`seclab`, context kind-seclab): audit
    /// logging and an encryption config on, the labs' images loaded, and
    /// seclab's marker written. Needs kind and Docker.
    Up {
        /// The kind cluster `seclab` exists but this state dir lost its id:
        /// read its marker and keep using it (asks first).
        #[arg(long)]
        adopt: bool,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
        /// Also install an add-on into seclab's cluster: `kyverno` (the
        /// upstream release manifest, server-side applied, labelled as
        /// seclab's; waits for its admission controller).
        #[arg(long = "with", value_enum)]
        with: Vec<Addon>,
        /// The Kyverno install manifest: a file or an http(s) URL (default:
        /// the pinned upstream release's install.yaml).
        #[arg(long, env = "SECLAB_KYVERNO_MANIFEST")]
        kyverno_manifest: Option<String>,
    },
    /// Delete seclab's kind cluster (only one that carries seclab's marker).
    Down {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// The cluster seclab would use: context, server, marker, the labs set
    /// up on it and their pods (reads only).
    Status {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// Apply the workspace's manifests to the lab's namespaces on the
    /// cluster (server-side apply, field manager seclab). `kubectl
    /// --context kind-seclab apply -f .` does the same.
    Apply {
        /// The lab.
        lab: String,
    },
    /// Remove the lab's containers from the Docker engine (only those
    /// carrying the lab's seclab labels), or its namespaces from the
    /// cluster (only those labelled with the lab).
    Stop {
        /// The lab id.
        lab: String,
    },
    /// Run a task's "show me" steps on the Docker engine: each step's
    /// `docker run` equivalent, the commands and their output; then clean
    /// up.
    Demo {
        /// The lab id.
        lab: String,
        /// A task id; every task with demo steps when omitted.
        task: Option<String>,
    },
    /// Check what the labs need: the Docker engine (reachable, version,
    /// rootless or remapped, privileged containers) and the images each
    /// lab runs.
    Doctor {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// Reveal the next hint of a task (counted in progress).
    Hint {
        /// The lab id.
        lab: String,
        /// The task id.
        task: String,
    },
    /// Record an answer in the workspace's answers.yaml.
    Answer {
        /// The lab id.
        lab: String,
        /// The task id.
        task: String,
        /// The question id (may be left out when the task asks one question).
        #[arg(long, short)]
        question: Option<String>,
        /// The answer: a choice letter, several letters, or text.
        #[arg(required = true, num_args = 1..)]
        value: Vec<String>,
    },
    /// Show progress over all labs.
    Progress {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: ProgressOutput,
        /// Also write a JUnit XML report.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Scaffold a new lab folder (for lab authors).
    New {
        /// The new lab's id.
        id: String,
        /// The folder of labs to create it in.
        #[arg(long, default_value = "labs", value_name = "DIR")]
        dir: PathBuf,
    },
    /// Remove workspaces and progress, after asking.
    Clean {
        /// Only this lab; everything when omitted.
        lab: Option<String>,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
    },
    /// Check that every lab's content is well formed.
    Validate {
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// Prove every lab: start fails, solution passes, wrong/ cases fail as
    /// they expect. Without flags: offline, plus live on every runtime that
    /// is at hand (a reachable Docker engine); the rest is skipped.
    Test {
        /// Only what can be decided without Docker or a cluster.
        #[arg(long, conflicts_with = "live")]
        offline: bool,
        /// A task that cannot run live is a failure, not a skip (for CI that
        /// must prove the live labs).
        #[arg(long)]
        live: bool,
        /// Only these labs.
        labs_to_test: Vec<String>,
        /// Also write a JUnit XML report.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Output format.
        #[arg(long, short, value_enum, default_value_t)]
        output: Output,
    },
    /// Tools for lab authors.
    Lab {
        /// What to do.
        #[command(subcommand)]
        command: LabCommand,
    },
    /// Scan manifests outside a lab (exit 0 clean or as expected, 1
    /// findings or differences, 2 bad input).
    Scan {
        /// What to scan for.
        #[command(subcommand)]
        command: ScanCommand,
    },
    /// Scan an image with trivy and save the JSON report as report.json in
    /// the lab's workspace: the local `trivy` binary when on PATH, else the
    /// aquasec/trivy image on the Docker engine (the image handed over as a
    /// `docker save` tar, never the Docker socket; trivy's database kept in
    /// the volume seclab-trivy-cache).
    ScanImage {
        /// The lab id.
        lab: String,
        /// The image to scan, as the engine names it; default: the image
        /// the lab's `trivy_report` check asks about, as seclab built it
        /// for you (`seclab check <lab>` builds it).
        #[arg(long, value_name = "REF")]
        image: Option<String>,
        /// Use trivy's cached database, without downloading it (fails on
        /// the first scan, when there is none yet).
        #[arg(long)]
        skip_db_update: bool,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Tools for lab authors.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Print the salted hash of a quiz answer, for lab.yaml.
    HashAnswer {
        /// The salt (default: random).
        #[arg(long)]
        salt: Option<String>,
        /// The answer is a set of choices.
        #[arg(long)]
        multiple: bool,
        /// The answer is short text, not choice letters.
        #[arg(long, conflicts_with = "multiple")]
        short: bool,
        /// The answer: choice letters (a, b, ...) or text.
        #[arg(required = true, num_args = 1..)]
        value: Vec<String>,
    },
    /// Print the JSON Schema of lab.yaml.
    Schema,
}

/// What `seclab scan` can look for. Exit codes: 0 nothing found (or
/// allowed), 1 findings (or denied), 2 bad input.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// RBAC: may a subject do something (like `kubectl auth can-i`), who may
    /// (`--who-can`), and who holds risky permissions (`--risky`), read from
    /// Role, ClusterRole, RoleBinding, ClusterRoleBinding and ServiceAccount
    /// manifests, plus the built-in roles and bindings every cluster has
    /// (cluster-admin, admin, edit, view and the system: ones).
    Rbac(RbacArgs),
    /// Evaluate workloads against the Pod Security Standards, exactly as
    /// the Pod Security admission controller would.
    ///
    /// Reads files or folders (recursive; *.yaml, *.yml, *.json),
    /// multi-document YAML, JSON and List kinds. Objects that carry no pod (a
    /// Service, a Namespace) are skipped. Exit codes: 0 every workload is
    /// allowed, 1 some workload violates the level, 2 bad input.
    Pss(PssArgs),
    /// Which workloads NetworkPolicies let connect to which, on which
    /// ports: a matrix, np-guard's connection list, or JSON; compared with
    /// an expected connection list when given.
    Netpol(NetpolArgs),
    /// Summarise trivy JSON reports (`trivy ... --format json`): findings
    /// by severity for each report and each of its results.
    ///
    /// Reads schema-v2 reports and the legacy bare-array (v1) ones. The
    /// JSON output is an array, one element per report. Exit codes: 0 every
    /// report parsed (1 with --fail-on when some vulnerability, failed
    /// misconfiguration or secret is at or above that severity), 2 a report
    /// that does not parse (`path:line:col: ...`).
    Trivy(TrivyArgs),
    /// Lint Dockerfiles for build hygiene: hadolint's rules on users, base
    /// tags, ADD, sudo, exec form, unpinned packages and secret names
    /// (DL*, same ids), trivy's where they differ (DS-*), and seclab's own
    /// on the final image (SL*: minimal base, no toolchain, no shell, a
    /// secret copied then deleted, multi-stage).
    ///
    /// Reads files, or folders (recursive: files named Dockerfile,
    /// Dockerfile.*, *.Dockerfile, *.dockerfile). Prints
    /// `path:line:col: RULE level: message`. Exit codes: 0 no findings, 1
    /// findings, 2 bad input (a Dockerfile that does not parse, located).
    Dockerfile(DockerfileArgs),
    /// What an image holds, seen two ways side by side: what a scanner that
    /// reads package metadata sees (release files, package databases,
    /// language metadata, Go build info; regular files only, as trivy
    /// reads layers), and what is really there (dpkg's file lists, doc
    /// folders, metadata a later layer deleted, importable modules, native
    /// code, packed executables). Then the blind spots between them.
    ///
    /// Reads any image on the Docker engine (`docker save`), or a saved
    /// archive with --input. Exit codes: 0 no blind spot, 1 blind spots,
    /// 2 bad input (no engine, no such image, an archive that does not
    /// read).
    Image(ImageArgs),
    /// What an audit policy (`audit.k8s.io/v1`, as kube-apiserver's
    /// --audit-policy-file) records for one request: the level, the omitted
    /// stages and the rule that decided, exactly as the API server
    /// evaluates it (first matching rule wins; none = level None).
    ///
    /// Without --user the request is unauthenticated (system:anonymous,
    /// group system:unauthenticated); with --user the API server's own
    /// groups are added (system:authenticated, and system:serviceaccounts
    /// plus system:serviceaccounts:<ns> for a service account). Exit codes:
    /// 0 evaluated, 2 bad input (a policy that does not load, at
    /// `path:line:col`).
    AuditPolicy(AuditPolicyArgs),
    /// Admission policies offline: every object of --against, sent as an
    /// admission request (CREATE by default), through every
    /// ValidatingAdmissionPolicy with its bindings and every Kyverno
    /// ClusterPolicy/Policy (validate.cel, autogen for pod controllers) in
    /// POLICY: admitted, rejected (which validation, with its message),
    /// skipped (why) or an error.
    ///
    /// A Warn or Audit binding admits with the warning shown. A policy
    /// with no binding is evaluated as if bound to everything with Deny, as
    /// the Kyverno CLI does (on a cluster it would do nothing); a note
    /// says so. Namespace objects among the manifests give namespace
    /// labels for namespaceSelector and namespaceObject; other objects in
    /// the policy files are params for paramRef. Exit codes: 0 nothing
    /// rejected, 1 some request rejected or not evaluable, 2 bad input (a
    /// file that does not parse, a policy the API server would refuse, at
    /// `path:line:col`).
    Admission(AdmissionArgs),
    /// Read kube-apiserver audit logs (JSON lines of `audit.k8s.io/v1`
    /// Events, as --audit-log-path writes them) and show the events that
    /// match: one line each (time, stage, user, verb, resource ns/name or
    /// the URI, code, source IP, authorization decision), then how many
    /// were read and matched.
    ///
    /// Reads files (gzip-compressed ones too, such as rotated logs kept
    /// with --audit-log-compress, recognised by their content) or stdin
    /// (`-` or no file), streaming: a line at a time, never the whole log.
    /// Each filter flag may be repeated (any of its values), and all the
    /// flags given must hold. Every stage is shown unless --stage says
    /// which (a request has one event per stage). A last line cut short (a
    /// log still being written) is skipped with a warning. Exit codes: 0
    /// the logs read (whether or not any event matched), 2 bad input (a
    /// line that is not an audit event, at `path:line:col`; a bad flag).
    Audit(AuditArgs),
}

/// Arguments of `scan audit`: the logs and the filters.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Audit log files (plain or gzip); `-` or none: stdin.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Only requests by this user (`user.username`) or made as them
    /// (`impersonatedUser.username`).
    #[arg(long = "user", value_name = "USER")]
    pub users: Vec<String>,
    /// Only this verb (get, list, watch, create, update, patch, delete).
    #[arg(long = "verb", value_name = "VERB")]
    pub verbs: Vec<String>,
    /// Only this resource, as an audit policy names it: pods (not its
    /// subresources), pods/exec, pods/* (pods and every subresource),
    /// */exec, *; R.GROUP for a group (deployments.apps).
    #[arg(long = "resource", value_name = "R[/SUB]")]
    pub resources: Vec<String>,
    /// Only objects in this namespace.
    #[arg(long = "namespace", short = 'n', value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Only requests received at or after this RFC 3339 time
    /// (2026-12-03T10:15:30Z; requestReceivedTimestamp).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only requests received at or before this RFC 3339 time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only events of this stage: RequestReceived, ResponseStarted,
    /// ResponseComplete or Panic.
    #[arg(long = "stage", value_name = "STAGE")]
    pub stages: Vec<String>,
    /// Output format: text lines and a summary, or a JSON array of the
    /// matching events (upstream field names, plus `file` and `line`).
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

/// Arguments of `scan admission`.
#[derive(Debug, clap::Args)]
pub struct AdmissionArgs {
    /// Policy files or folders: ValidatingAdmissionPolicy, its bindings,
    /// Kyverno policies, and param objects.
    #[arg(required = true, value_name = "POLICY")]
    pub policies: Vec<PathBuf>,
    /// Manifest files or folders whose objects are sent as requests.
    #[arg(long, required = true, num_args = 1.., value_name = "MANIFEST")]
    pub against: Vec<PathBuf>,
    /// The operation of every request.
    #[arg(long, value_enum, default_value_t = AdmissionOperation::Create)]
    pub operation: AdmissionOperation,
    /// The requesting user (default: kubernetes-admin in group
    /// system:masters, as a kind cluster's kubeconfig).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A group of the requesting user (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Show skipped pairs too.
    #[arg(long)]
    pub show_skipped: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

/// The operation of `scan admission`'s requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdmissionOperation {
    /// Create the object.
    Create,
    /// Update the object (the old object is the same object).
    Update,
}

/// Arguments of `scan audit-policy`: the policy file and one request, a
/// resource request (`--resource`) or a non-resource one (`--path`).
#[derive(Debug, clap::Args)]
pub struct AuditPolicyArgs {
    /// The audit policy file (YAML or JSON, one `kind: Policy`).
    #[arg(value_name = "POLICY")]
    pub policy: PathBuf,
    /// Who sends the request; without it, an unauthenticated request.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A group of the user (repeatable), besides those the API server adds.
    #[arg(long = "group", value_name = "GROUP", requires = "user")]
    pub groups: Vec<String>,
    /// The verb: get, list, watch, create, update, patch, delete, ...
    #[arg(long)]
    pub verb: String,
    /// The resource, as R[.GROUP] (pods, deployments.apps) or R/SUB
    /// (pods/log).
    #[arg(
        long,
        value_name = "R[.GROUP]",
        required_unless_present = "path",
        conflicts_with = "path"
    )]
    pub resource: Option<String>,
    /// The subresource, e.g. log, exec, status.
    #[arg(long, requires = "resource")]
    pub subresource: Option<String>,
    /// The namespace; without it the resource is cluster-scoped.
    #[arg(long, short = 'n', requires = "resource")]
    pub namespace: Option<String>,
    /// The object's name (matters for rules with resourceNames).
    #[arg(long, requires = "resource")]
    pub name: Option<String>,
    /// A non-resource URL path (/healthz, /metrics, /logs/x).
    #[arg(long, value_name = "URL")]
    pub path: Option<String>,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

/// Arguments of `scan image`.
#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// Output format: text, or the whole inventory as JSON.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
    /// Read this `docker save` archive instead of asking the engine.
    #[arg(long, value_name = "TAR", conflicts_with = "image")]
    pub input: Option<PathBuf>,
    /// The image, as the engine names it (`python:3.11`, an ID).
    #[arg(required_unless_present = "input", value_name = "IMAGE")]
    pub image: Option<String>,
}

/// Arguments of `scan dockerfile`.
#[derive(Debug, clap::Args)]
pub struct DockerfileArgs {
    /// Output format: text lines, or a JSON array of `{file, line, column,
    /// code, level, message}` (hadolint's `-f json` shape).
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
    /// Dockerfiles or folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Arguments of `scan trivy`.
#[derive(Debug, clap::Args)]
pub struct TrivyArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
    /// Exit 1 when any finding is at or above this severity: CRITICAL,
    /// HIGH, MEDIUM, LOW or UNKNOWN.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<seclab_checkers::trivy::Severity>,
    /// Trivy JSON report files.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
}

/// `seclab scan rbac`: one of three modes. can-i (the default) needs
/// `--as`, `--verb` and `--resource`; `--who-can` needs `--verb` and
/// `--resource`; `--risky` needs only the paths.
#[derive(Debug, clap::Args)]
pub struct RbacArgs {
    /// Manifest files or folders (recursive: *.yaml, *.yml, *.json).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// can-i: who asks — a user name, or system:serviceaccount:<ns>:<name>.
    #[arg(
        long = "as",
        value_name = "SUBJECT",
        required_unless_present_any = ["who_can", "risky"],
        conflicts_with_all = ["who_can", "risky"]
    )]
    pub as_subject: Option<String>,
    /// can-i: a group the subject is in (repeatable), besides the ones
    /// every user gets (system:authenticated, and for service accounts
    /// system:serviceaccounts[:<ns>]).
    #[arg(long = "as-group", value_name = "GROUP", requires = "as_subject")]
    pub as_group: Vec<String>,
    /// The verb: get, list, watch, create, update, patch, delete, ...
    #[arg(long, required_unless_present = "risky", conflicts_with = "risky")]
    pub verb: Option<String>,
    /// The resource, as R[.GROUP] (secrets, deployments.apps), R/SUB
    /// (pods/exec), or for can-i a non-resource URL (/healthz).
    #[arg(
        long,
        value_name = "R[.GROUP]",
        required_unless_present = "risky",
        conflicts_with = "risky"
    )]
    pub resource: Option<String>,
    /// The subresource, e.g. exec, log, status.
    #[arg(long, conflicts_with = "risky")]
    pub subresource: Option<String>,
    /// can-i: the object's name (matters for rules with resourceNames).
    #[arg(long, requires = "as_subject")]
    pub name: Option<String>,
    /// The namespace; without it the question is cluster-wide (only
    /// ClusterRoleBindings count).
    #[arg(long, short = 'n', conflicts_with = "risky")]
    pub namespace: Option<String>,
    /// List every subject that may do it, with the grants.
    #[arg(long, conflicts_with = "risky")]
    pub who_can: bool,
    /// List subjects that can read secrets, exec/attach into pods, add
    /// ephemeral containers, create or change pods and workloads, create
    /// service-account tokens, proxy to nodes, approve certificates, edit
    /// admission webhooks, create PersistentVolumes, escalate/bind/
    /// impersonate, or hold wildcards — through the manifests' bindings and
    /// the built-in ones, implied groups included.
    #[arg(long)]
    pub risky: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
}

/// Arguments of `seclab scan pss`.
#[derive(Debug, clap::Args)]
pub struct PssArgs {
    /// The level: baseline or restricted.
    #[arg(long, default_value = "restricted", value_name = "LEVEL")]
    pub level: seclab_checkers::pss::Level,
    /// The policy version, as in the namespace label
    /// `pod-security.kubernetes.io/enforce-version`: latest or v1.N.
    #[arg(long, default_value = "latest", value_name = "VERSION")]
    pub version: seclab_checkers::pss::Version,
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: Output,
    /// Manifest files or folders.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Output formats of `scan netpol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum NetpolOutput {
    /// A grid, sources as rows and destinations as columns, with a legend.
    #[default]
    Matrix,
    /// np-guard's `list -o txt` lines: `SRC => DST : CONNS`.
    Connlist,
    /// `{"workloads", "connections", "diff"}`.
    Json,
}

/// Arguments of `scan netpol`.
#[derive(Debug, clap::Args)]
pub struct NetpolArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    pub output: NetpolOutput,
    /// The full list of allowed connections, in the connlist grammar
    /// (`ns/a[Pod] => ns/b[Pod] : TCP 8080`, one per line, `#` comments):
    /// every pair not listed must be denied. Exit 1 when the manifests
    /// differ.
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Width the matrix is drawn for.
    #[arg(long, default_value_t = 80, value_name = "COLUMNS")]
    pub width: usize,
    /// Manifest files or folders (read recursively: *.yaml, *.yml, *.json).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// An add-on `seclab up --with` installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Addon {
    /// The Kyverno policy engine.
    Kyverno,
}
