//! The lab's `dockerfile` check (placeholder until wired).
