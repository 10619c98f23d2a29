//! Writes a generated kube-apiserver audit log to stdout:
//! `audit_log_gen EVENTS [SEED]` (see `benches/support/audit_gen.rs` for
//! what is in it). Used by `benches/audit-log.sh`.

#[path = "../benches/support/audit_gen.rs"]
mod audit_gen;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut g = audit_gen::Generator::new(seed);
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut lines = Vec::new();
    let mut written = 0;
    while written < events {
        lines.clear();
        g.next_request(&mut lines);
        for l in lines.iter().take(events - written) {
            out.write_all(l.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()
}
