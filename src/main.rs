//! The `seclab` binary: parse the command line, run one command.

fn main() {
    println!("seclab");
}
