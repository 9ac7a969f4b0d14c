#!/usr/bin/env python3
"""Differential test: eksgate's reading of Go regular expressions against Go's `regexp`.

Kubernetes checks a CRD's `pattern` with Go's `regexp`, and CEL's `matches()`/`find()` run on it;
eksgate reads the same patterns with its own translation to the Rust `regex` crate
(crates/policy/src/re2.rs). Each case is a pattern and a set of texts; both sides say whether
the pattern compiles and, for each text, where the leftmost-first match is (in bytes):
- Go: `go run tests/re2-differential/main.go` (Go's standard library only, offline);
- eksgate: `cargo run -p eksgate-policy --example re2`.

The cases are the `pattern`s of the upstream CRDs (../shared/crds when present), hand-picked
corners of the two syntaxes, and random patterns built from fragments of both (seeded: the seed
is printed; a fixed seed unless `--seed random`). Every verdict and every match must agree; Debian's Go (1.19)
spells Unicode class names exactly, so the generator writes them as Go 1.19 does (eksgate reads
them loosely, as Go 1.25 does).

Usage: python3 tests/re2_differential.py --re2 BIN [--go BIN] [--cases N] [--seed S|random]
"""

import argparse
import glob
import json
import os
import random
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Fragments of patterns: what the two syntaxes share, what only one of them reads, and Go's
# plain characters that the crate would read as syntax.
ATOMS = [
    "a", "b", "z", "A", "é", "λ", "中", "1", "٣", "_", " ", "-", ".", ",", "#", "&", "~", "<",
    ">", "{", "}", "]", "/", "=", ":", "K", "k", "ſ", "s", "S",
    r"\d", r"\D", r"\s", r"\S", r"\w", r"\W", r"\b", r"\B", r"\A", r"\z", r"\.", r"\-", r"\[",
    r"\]", r"\{", r"\}", r"\<", r"\>", r"\&", r"\~", r"\#", r"\ ", r"\Q.*\E", r"\Qa", r"\012",
    r"\0", r"\101", r"\1", r"\8", r"\x41", r"\x{3bb}", r"\x{110000}", r"\x4", r"\pL", r"\PL",
    r"\pN", r"\pZ", r"\pC", r"\p{Greek}", r"\p{^Greek}", r"\P{Latin}", r"\p{Lu}", r"\p{Ll}",
    r"\p{Nd}", r"\p{Han}", r"\p{Zs}", r"\p{Any}", r"\p{Alphabetic}", r"\p{sc=Greek}",
    r"\p{Age=3.0}", r"\u0041", r"\a", r"\f", r"\t", r"\n", r"\r", r"\v", r"\e", r"\h", r"\q",
    r"\Z", r"\C", r"\é", "\\", ".", "^", "$",
]
CLASS_ITEMS = [
    "a", "z", "0", "9", "-", "]", "[", "^", "&&", "--", "~~", "&", "~", ".", "é", "λ", " ",
    "a-z", "0-9", "A-Z", "z-a", "+--", r"\d", r"\D", r"\s", r"\S", r"\w", r"\W", r"\pL",
    r"\PL", r"\p{Greek}", r"\-", r"\]", r"\[", r"\\", r"\b", r"\x41", r"\x{3bb}", r"\012",
    "[:alpha:]", "[:^digit:]", "[:word:]", "[:foo:]", "[:", "a-\\d",
]
QUANTIFIERS = [
    "*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{2,}", "{,2}", "{01}", "{1001}", "{3,1}",
    "{x}", "{", "**", "{2}{3}",
]
GROUP_OPENERS = ["(", "(?:", "(?i)", "(?i:", "(?s:", "(?m:", "(?U:", "(?i-s:", "(?P<n>",
                 "(?x)", "(?u)", "(?-)", "(?)", "(?#", "(?=", "(?P<>"]

TEXTS = [
    "", "a", "ab", "aé", "é", "λ", "Λ", "A", "Z", "_", "1", "٣", " ", "\u00a0", "\x0b", "\t",
    "\n", "a\nb", "{", "}", "{2}", "a{,2}", "[", "]", "&", "~", "<>", "\u212a", "\u017f", "k",
    "S", "s", "\u01c4", "中", "x-y", "a.b", "aaa", "\x00", "A1_", "{x}", "-", "+", ",", "#",
]


def fragment(rng, depth):
    roll = rng.random()
    if roll < 0.5 or depth > 3:
        return rng.choice(ATOMS)
    if roll < 0.7:
        items = "".join(rng.choice(CLASS_ITEMS) for _ in range(rng.randint(0, 3)))
        return "[" + rng.choice(["", "^"]) + items + rng.choice(["]", "]", "]", ""])
    if roll < 0.85:
        inner = "".join(fragment(rng, depth + 1) for _ in range(rng.randint(0, 3)))
        opener = rng.choice(GROUP_OPENERS)
        if opener.endswith(")"):
            return opener + inner
        return opener + inner + rng.choice([")", ")", ")", ""])
    if roll < 0.95:
        return fragment(rng, depth + 1) + rng.choice(QUANTIFIERS)
    return fragment(rng, depth + 1) + "|" + fragment(rng, depth + 1)


def generated(rng, n):
    for _ in range(n):
        yield "".join(fragment(rng, 0) for _ in range(rng.randint(1, 4)))


def upstream_patterns():
    """The `pattern` of every schema in ../shared/crds (upstream Karpenter and Auto Mode CRDs)."""
    found = []
    crds = os.path.join(ROOT, "..", "shared", "crds")

    def walk(node):
        if isinstance(node, dict):
            p = node.get("pattern")
            if isinstance(p, str):
                found.append(p)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in sorted(glob.glob(os.path.join(crds, "**", "*.json"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as f:
                walk(json.load(f))
        except (OSError, ValueError):
            continue
    return found


CORNERS = [
    r"^\w+$", r"^[\w.-]+$", r"\bfoo\b", r"^[[a]+$", r"^[a&&b]+$", r"^[a--b]$", r"^[+--]+$",
    r"^a{,2}$", r"^a{01}$", r"^\Q.*[\E$", r"^\012$", r"a\b{start}", r"(?i)\W", r"(?i)k",
    r"(?i)[^k]", r"(?i)\p{Lu}", r"^\pC$", r"^\p{Any}+$", r"[^\x00-\x{10FFFF}]", r"a**",
    r"x{2}{3}", r"^*", r"$+", r"(?i)(?-i)a", r"a(?i)(?m)*", r"(?:\A)(?i)(?i){1,3}", r"x(?i)(?:y)",
    r"[0[~~]{2}(?i)?", r"a+(?i)?", r"(ab)*(?i)*", r"(a|b)+(?m)?(?s){2}", r"\p{Nd}(?i)(?)*",
    r"[-\x41]|.{1,3}(?)?\x{3bb}", r"a{1000}", r"a{1001}", r"(|a)", r"()", r"a||b",
    r"[]", r"[]a]", r"[^]a]", r"[a-]", r"[-a]", r"[a-c-e]", r"\x{10FFFF}", r"[\x{D800}]",
]


def run(cmd, cases):
    text = "".join(json.dumps({"pattern": p, "texts": TEXTS}) + "\n" for p in cases)
    out = subprocess.run(cmd, input=text, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    if len(lines) != len(cases):
        sys.exit(f"{' '.join(cmd)}: {len(lines)} answers for {len(cases)} cases")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--re2", required=True, help="the built `re2` example of eksgate-policy")
    ap.add_argument("--go", default="go", help="the go command (default: go on PATH)")
    ap.add_argument("--cases", type=int, default=20000, help="random patterns (default 20000)")
    # A fixed seed by default, so CI gives the same cases each run; `--seed random` explores
    # (and prints the seed to replay what it finds).
    ap.add_argument("--seed", default="20261203", help="an integer, or `random` (default 20261203)")
    args = ap.parse_args()
    seed = random.randrange(1 << 30) if args.seed == "random" else int(args.seed)
    rng = random.Random(seed)
    upstream = upstream_patterns()
    cases = list(dict.fromkeys(upstream + CORNERS + list(generated(rng, args.cases))))
    go = run([args.go, "run", os.path.join(ROOT, "tests", "re2-differential", "main.go")], cases)
    ours = run([args.re2], cases)
    disagreements = []
    compiled = 0
    for pattern, g, o in zip(cases, go, ours):
        if g["ok"] != o["ok"]:
            disagreements.append(
                f"{pattern!r}: Go {'accepts' if g['ok'] else 'rejects (' + g['error'] + ')'}, "
                f"eksgate {'accepts' if o['ok'] else 'rejects (' + o['error'] + ')'}"
            )
            continue
        if not g["ok"]:
            continue
        compiled += 1
        for text, gf, of in zip(TEXTS, g["found"], o["found"]):
            if gf != of:
                disagreements.append(f"{pattern!r} on {text!r}: Go {gf}, eksgate {of}")
                break
    print(
        f"re2 differential (seed {seed}): {len(cases)} patterns ({len(upstream)} from the CRDs), "
        f"{compiled} compiled by both, {len(cases) - compiled} rejected by both or disputed, "
        f"{len(TEXTS)} texts each: {len(disagreements)} disagreements"
    )
    for d in disagreements[:40]:
        print("  " + d)
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
