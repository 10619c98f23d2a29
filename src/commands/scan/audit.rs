//! `seclab scan audit LOG... [--user U] [--verb V] [--resource R]
//! [--namespace N] [--since T] [--until T] [--stage S] [--output text|json]`:
//! the events of kube-apiserver audit logs that match, for a forensics
//! reader.
//!
//! Streaming: each log is read a line at a time into one reused buffer, the
//! line parsed with borrowed strings (`seclab_checkers::audit::log`), and a
//! matching event written out at once; memory stays at the longest line,
//! whatever the log's size. Gzip input (a rotated log kept with
//! `--audit-log-compress`) is recognised by its first two bytes, whatever
//! its name. `-` or no file is stdin.
//!
//! Exit codes: 0 every log read (whether or not an event matched: an empty
//! answer is an answer), 2 bad input — a flag, a file that cannot be read,
//! or a line that is not an audit event at `path:line:col`. A last line cut
//! short (the API server is still writing the log) is skipped with a
//! warning, not an error.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::path::Path;

use anyhow::bail;
use flate2::read::MultiGzDecoder;
use seclab_checkers::audit::Stage;
use seclab_checkers::audit::log::{self, Event, Filter, ResourcePattern, Timestamp};
use serde::Serialize;

use crate::cli::{AuditArgs, Output};
use crate::error::{EXIT_OK, InputError, Outcome};

/// The longest line read (a RequestResponse event of a big list can be
/// many MiB); longer is an input error rather than unbounded memory.
const MAX_LINE: usize = 256 * 1024 * 1024;

/// The exit code when the reader of our output went away
/// (`seclab scan audit log | head`), as a shell reports SIGPIPE.
const EXIT_BROKEN_PIPE: u8 = 141;

/// The name stdin goes by in messages.
const STDIN: &str = "<stdin>";

fn time_flag(flag: &str, value: Option<&String>) -> anyhow::Result<Option<Timestamp>> {
    value
        .map(|s| {
            s.trim().parse::<Timestamp>().map_err(|e| {
                anyhow::anyhow!(
                    "{flag} {s:?}: not an RFC 3339 time (like 2026-12-03T10:15:30Z): {e}"
                )
            })
        })
        .transpose()
}

/// The filter the flags describe.
pub fn filter_of(args: &AuditArgs) -> anyhow::Result<Filter> {
    let non_empty = |flag: &str, values: &[String]| -> anyhow::Result<Vec<String>> {
        values
            .iter()
            .map(|v| {
                let v = v.trim();
                if v.is_empty() {
                    bail!("{flag}: the value is empty");
                }
                Ok(v.to_owned())
            })
            .collect()
    };
    let resources = args
        .resources
        .iter()
        .map(|r| ResourcePattern::parse(r).map_err(|e| anyhow::anyhow!("--resource {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let stages = args
        .stages
        .iter()
        .map(|s| {
            Stage::ALL
                .into_iter()
                .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "--stage {s:?}: one of RequestReceived, ResponseStarted, ResponseComplete, Panic"
                    )
                })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let since = time_flag("--since", args.since.as_ref())?;
    let until = time_flag("--until", args.until.as_ref())?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        bail!("--since {s} is after --until {u}: no event could match");
    }
    Ok(Filter {
        users: non_empty("--user", &args.users)?,
        verbs: non_empty("--verb", &args.verbs)?,
        resources,
        namespaces: non_empty("--namespace", &args.namespaces)?,
        since,
        until,
        stages,
    })
}

/// Opens a log: a file, or stdin for `-`; gzip is undone when the first
/// two bytes say so.
fn open(path: &Path) -> Result<(String, Box<dyn BufRead>), InputError> {
    let (name, mut source): (String, Box<dyn Read>) = if path.as_os_str() == "-" {
        (STDIN.to_owned(), Box::new(io::stdin().lock()))
    } else {
        let name = path.display().to_string();
        let file = File::open(path)
            .map_err(|e| InputError::new(name.clone(), format!("cannot read: {e}")))?;
        (name, Box::new(file))
    };
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < magic.len() {
        match source.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(InputError::new(name, format!("cannot read: {e}"))),
        }
    }
    let whole = Cursor::new(magic[..got].to_vec()).chain(source);
    let reader: Box<dyn BufRead> = if magic[..got] == [0x1f, 0x8b] {
        Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(whole),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 16, whole))
    };
    Ok((name, reader))
}

/// A matching event as the JSON output has it: where it is, then the
/// event's fields under their upstream names.
#[derive(Serialize)]
struct Row<'r, 'a> {
    file: &'r str,
    line: usize,
    #[serde(flatten)]
    event: &'r Event<'a>,
}

/// Where the matching events go.
struct Sink<W: Write> {
    out: W,
    output: Output,
    /// The text line being built, reused.
    line: String,
    matched: usize,
}

impl<W: Write> Sink<W> {
    fn start(&mut self) -> io::Result<()> {
        match self.output {
            Output::Json => self.out.write_all(b"["),
            Output::Text => Ok(()),
        }
    }

    fn event(&mut self, file: &str, line: usize, e: &Event<'_>) -> io::Result<()> {
        self.matched += 1;
        match self.output {
            Output::Json => {
                self.out
                    .write_all(if self.matched == 1 { b"\n  " } else { b",\n  " })?;
                serde_json::to_writer(
                    &mut self.out,
                    &Row {
                        file,
                        line,
                        event: e,
                    },
                )?;
            }
            Output::Text => {
                self.line.clear();
                render_text(&mut self.line, e);
                self.line.push('\n');
                self.out.write_all(self.line.as_bytes())?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, read: usize, files: usize) -> io::Result<()> {
        match self.output {
            Output::Json => {
                let end: &[u8] = if self.matched == 0 { b"]\n" } else { b"\n]\n" };
                self.out.write_all(end)?;
            }
            Output::Text => writeln!(
                self.out,
                "{read} event{} read from {files} log{}, {} matched",
                if read == 1 { "" } else { "s" },
                if files == 1 { "" } else { "s" },
                self.matched
            )?,
        }
        self.out.flush()
    }
}

/// Appends `s` with control characters escaped: a log's strings come from
/// clients (user agents, URIs, user names) and must not drive the terminal.
fn push_clean(out: &mut String, s: &str) {
    if !s.chars().any(char::is_control) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
}

fn push_or_dash(out: &mut String, s: &str) {
    if s.is_empty() {
        out.push('-');
    } else {
        push_clean(out, s);
    }
}

/// `pods/exec shop/web`, `secrets in shop`, `nodes kind-control-plane`,
/// `namespaces`, or the URI of a non-resource request.
fn push_target(out: &mut String, e: &Event<'_>) {
    let Some(o) = e.object_ref.as_ref().filter(|o| !o.resource.is_empty()) else {
        push_or_dash(out, &e.request_uri);
        return;
    };
    push_clean(out, &o.resource);
    if !o.api_group.is_empty() {
        out.push('.');
        push_clean(out, &o.api_group);
    }
    if !o.subresource.is_empty() {
        out.push('/');
        push_clean(out, &o.subresource);
    }
    match (o.namespace.is_empty(), o.name.is_empty()) {
        (false, false) => {
            out.push(' ');
            push_clean(out, &o.namespace);
            out.push('/');
            push_clean(out, &o.name);
        }
        (false, true) => {
            out.push_str(" in ");
            push_clean(out, &o.namespace);
        }
        (true, false) => {
            out.push(' ');
            push_clean(out, &o.name);
        }
        (true, true) => {}
    }
}

/// One text line: time, stage, user (`as` the impersonated one), verb,
/// target, code, source IP, decision; `-` for what the event lacks.
pub fn render_text(out: &mut String, e: &Event<'_>) {
    // Padded by hand: a Timestamp's Display ignores the width.
    let start = out.len();
    match e.request_received_timestamp {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.push('-'),
    }
    let width = out.len() - start;
    out.extend(std::iter::repeat_n(' ', 27usize.saturating_sub(width) + 2));
    let _ = write!(out, "{:<16}", e.stage.as_str());
    out.push_str("  ");
    push_or_dash(out, &e.user.username);
    if let Some(i) = &e.impersonated_user {
        out.push_str(" (as ");
        push_or_dash(out, &i.username);
        out.push(')');
    }
    out.push_str("  ");
    push_or_dash(out, &e.verb);
    out.push_str("  ");
    push_target(out, e);
    out.push_str("  ");
    match e.code() {
        Some(c) => {
            let _ = write!(out, "{c}");
        }
        None => out.push('-'),
    }
    out.push_str("  ");
    push_or_dash(out, e.source_ip().unwrap_or(""));
    out.push_str("  ");
    push_or_dash(out, e.decision().unwrap_or(""));
}

/// What reading one log came to.
enum Read1 {
    /// Events read (and passed to the sink when matching).
    Done(usize),
    /// Our reader went away.
    BrokenPipe,
}

fn write_failed(e: &io::Error) -> anyhow::Result<Read1> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(Read1::BrokenPipe)
    } else {
        bail!("cannot write the output: {e}")
    }
}

/// Reads one log, a line at a time, into `sink`.
fn scan_log<W: Write>(path: &Path, filter: &Filter, sink: &mut Sink<W>) -> anyhow::Result<Read1> {
    let (name, mut reader) = open(path)?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 14);
    let mut number = 0usize;
    let mut read = 0usize;
    let located = |line: usize, col: usize, message: String| InputError {
        path: name.clone(),
        line: Some(line),
        col: Some(col),
        message,
    };
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| InputError {
                path: name.clone(),
                line: Some(number + 1),
                col: None,
                message: format!("cannot read: {e}"),
            })?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = buf.last() == Some(&b'\n');
        if !complete && buf.len() > MAX_LINE {
            return Err(located(
                number,
                1,
                format!("the line is longer than {} MiB", MAX_LINE >> 20),
            )
            .into());
        }
        let mut bytes = buf.as_slice();
        if let Some(b) = bytes.strip_suffix(b"\n") {
            bytes = b.strip_suffix(b"\r").unwrap_or(b);
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            located(
                number,
                e.valid_up_to() + 1,
                "not UTF-8 text (an audit log is JSON lines)".to_owned(),
            )
        })?;
        match log::parse_line(text, number) {
            Ok(None) => {}
            Ok(Some(event)) => {
                read += 1;
                if filter.matches(&event)
                    && let Err(e) = sink.event(&name, number, &event)
                {
                    return write_failed(&e);
                }
            }
            Err(e) if e.incomplete && !complete => {
                eprintln!(
                    "warning: {name}:{}:{}: the last line ends inside its event (a log still being written?); skipped",
                    e.line, e.column
                );
            }
            Err(e) => return Err(located(e.line, e.column, e.message).into()),
        }
    }
    Ok(Read1::Done(read))
}

/// `seclab scan audit`.
pub fn run(args: &AuditArgs) -> anyhow::Result<Outcome> {
    let filter = filter_of(args)?;
    let stdin = [Path::new("-").to_path_buf()];
    let logs = if args.logs.is_empty() {
        &stdin[..]
    } else {
        &args.logs[..]
    };
    if logs.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        bail!("stdin (`-`) can be read only once");
    }
    let mut sink = Sink {
        out: io::BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        output: args.output,
        line: String::new(),
        matched: 0,
    };
    let broken = Outcome(EXIT_BROKEN_PIPE);
    if sink.start().is_err() {
        return Ok(broken);
    }
    let mut read = 0;
    for path in logs {
        match scan_log(path, &filter, &mut sink)? {
            Read1::Done(n) => read += n,
            Read1::BrokenPipe => return Ok(broken),
        }
    }
    match sink.finish(read, logs.len()) {
        Ok(()) => Ok(Outcome(EXIT_OK)),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(broken),
        Err(e) => bail!("cannot write the output: {e}"),
    }
}
