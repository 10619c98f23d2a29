"""Compare `seclab scan dockerfile` with hadolint on the rules both have.

Called by benches/hadolint-compare.sh (which sets up hadolint and PyYAML).
Each tool lints every Dockerfile; a finding is (file, line, rule) for a
rule in OVERLAP. Agreement = findings both report / findings either
reports. Each disagreement is printed with the side that reported it.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import yaml

# The hadolint rules seclab implements with the same id and meaning.
OVERLAP = [
    "DL3002", "DL3004", "DL3006", "DL3007", "DL3008", "DL3013",
    "DL3016", "DL3018", "DL3020", "DL3025", "DL3064",
]


def samples(data: pathlib.Path, out: pathlib.Path) -> list:
    """Writes each good/bad sample as its own Dockerfile; returns the paths."""
    files = []
    docker = data / "trivy-checks" / "docker"
    for spec in sorted(docker.glob("*.yaml")):
        doc = yaml.safe_load(spec.read_text())
        cases = (doc or {}).get("dockerfile", {})
        for kind in ("good", "bad"):
            for n, text in enumerate(cases.get(kind) or []):
                d = out / f"{spec.stem}-{kind}-{n}"
                d.mkdir(parents=True, exist_ok=True)
                (d / "Dockerfile").write_text(text + "\n")
                files.append(d / "Dockerfile")
    trivy = data / "trivy" / "inputs" / "dockerfile" / "Dockerfile"
    if trivy.is_file():
        files.append(trivy)
    return files


def run_json(cmd: list) -> list:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd[:3])}...: exit {proc.returncode}: {proc.stderr.strip()}")
    return json.loads(proc.stdout or "[]")


def findings(rows: list, name_of: dict) -> set:
    return {
        (name_of.get(r["file"], r["file"]), r["line"], r["code"])
        for r in rows
        if r["code"] in OVERLAP
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hadolint", required=True)
    ap.add_argument("--seclab", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--min", type=float, default=95.0)
    args = ap.parse_args()
    data = pathlib.Path(args.data)
    if not (data / "trivy-checks" / "docker").is_dir():
        print(f"NOTICE: {data}/trivy-checks/docker not found; nothing to compare")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        files = samples(data, pathlib.Path(tmp))
        files += sorted(pathlib.Path("benches/dockerfiles").glob("*.Dockerfile"))
        files += sorted(p for p in pathlib.Path("labs").rglob("*") if p.is_file()
                        and (p.name == "Dockerfile" or p.name.startswith("Dockerfile.")))
        name_of = {}
        for f in files:
            s = str(f)
            short = s[len(tmp) + 1:] if s.startswith(tmp) else s
            name_of[s] = short
        names = [str(f) for f in files]
        theirs = findings(run_json([args.hadolint, "--no-fail", "-f", "json", *names]), name_of)
        ours = findings(run_json([args.seclab, "scan", "dockerfile", "--output", "json", *names]), name_of)
    both = theirs & ours
    either = theirs | ours
    pct = 100.0 * len(both) / len(either) if either else 100.0
    print(f"{len(files)} Dockerfiles; rules {' '.join(OVERLAP)}")
    print(f"hadolint {len(theirs)}, seclab {len(ours)}, both {len(both)}")
    print(f"agreement: {len(both)}/{len(either)} = {pct:.1f} %")
    for f, line, code in sorted(theirs - ours):
        print(f"  only hadolint: {f}:{line} {code}")
    for f, line, code in sorted(ours - theirs):
        print(f"  only seclab:   {f}:{line} {code}")
    return 0 if pct >= args.min else 1


if __name__ == "__main__":
    sys.exit(main())
