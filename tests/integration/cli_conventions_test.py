#!/usr/bin/env python3
"""The command line's conventions (docs/cli.md): --version and the same version in /api/config and /metrics,
usage lines that say `faceweave` whatever path started it, bash and zsh completions generated from the
command line that complete real sub-commands, options and choices, and a man page that groff renders
without a warning and that names every command. Usage: cli_conventions_test.py FACEWEAVE VERSION"""
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

FW, VERSION = sys.argv[1], sys.argv[2]
ENV = {**os.environ, "FACEWEAVE_TELEMETRY": "off"}
failures = []


def check(ok, what):
    print(("ok - " if ok else "FAIL - ") + what)
    if not ok:
        failures.append(what)


def run(*args, **kw):
    return subprocess.run([FW, *args], env=ENV, capture_output=True, text=True, timeout=60, **kw)


# --version
r = run("--version")
check(r.returncode == 0 and r.stdout.strip() == f"faceweave {VERSION}", f"--version prints 'faceweave {VERSION}' ({r.stdout!r})")

# Usage lines name the program, not the path that started it.
r = run("--help")
check(r.stdout.splitlines()[1] == "Usage: faceweave [OPTIONS] SUBCOMMAND", f"--help usage line ({r.stdout.splitlines()[1]!r})")
r = run("swap", "--help")
check("Usage: faceweave swap [OPTIONS]" in r.stdout and os.path.dirname(FW) not in r.stdout, "swap --help usage line")
r = run("swap")
check(r.returncode == 2 and os.path.dirname(FW) not in r.stdout + r.stderr, "a usage error does not print the build path")

# The same version from a running server: /api/config, /healthz and /metrics' build info.
with tempfile.TemporaryDirectory() as data:
    p = subprocess.Popen([FW, "--data-dir", data, "serve", "--port", "0"], env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        base = None
        for line in p.stdout:
            m = re.search(r"serving on (http://\S+?)/?(\s|$)", line)
            if m:
                base = m.group(1)
                break
        check(base is not None, "faceweave serve says where it listens")
        config = json.load(urllib.request.urlopen(base + "/api/config", timeout=30))
        check(config["version"] == VERSION, f"/api/config version {config['version']}")
        health = json.load(urllib.request.urlopen(base + "/healthz", timeout=30))
        check(health["version"] == VERSION, "/healthz version")
        metrics = urllib.request.urlopen(base + "/metrics", timeout=30).read().decode()
        check(f'faceweave_build_info{{version="{VERSION}"}} 1' in metrics, "/metrics faceweave_build_info")
        # serve shows a line per page and error (not per status poll), never a token from the query.
        urllib.request.urlopen(base + "/?token=s3cret", timeout=30).read()
        try:
            urllib.request.urlopen(base + "/api/jobs/j_nothing", timeout=30)
        except urllib.error.HTTPError:
            pass
    finally:
        p.terminate()
        p.wait(timeout=30)
    rest = p.stdout.read()
    check(re.search(r"^\d\d:\d\d:\d\d GET / 200$", rest, re.M) is not None, f"serve logs the page request ({rest[-300:]!r})")
    check(re.search(r"GET /api/jobs/j_nothing 404$", rest, re.M) is not None, "serve logs an error answer")
    check("/api/config" not in rest and "/healthz" not in rest and "s3cret" not in rest,
          "serve does not log polling, health checks or a token")

# serve --quiet: no request lines.
with tempfile.TemporaryDirectory() as data:
    p = subprocess.Popen([FW, "--data-dir", data, "serve", "--port", "0", "--quiet"], env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    try:
        base = None
        for line in p.stdout:
            m = re.search(r"serving on (http://\S+?)/?(\s|$)", line)
            if m:
                base = m.group(1)
                break
        urllib.request.urlopen(base + "/", timeout=30).read()
    finally:
        p.terminate()
        p.wait(timeout=30)
    rest = p.stdout.read()
    check("GET /" not in rest, f"serve --quiet logs no request ({rest[-200:]!r})")

# The sub-commands, from --help (CLI11's own listing), to compare the completions and the man page with.
top = run("--help").stdout.split("Subcommands:", 1)[1]
commands = re.findall(r"^  (\w+)", top, re.M)
check({"swap", "serve", "jobs", "completions", "man"} <= set(commands), f"sub-commands {commands}")

# bash: completing real command lines in a bash that sourced the generated script.
r = run("completions", "bash")
check(r.returncode == 0, "completions bash")
with tempfile.NamedTemporaryFile("w", suffix=".bash", delete=False) as f:
    f.write(r.stdout)
    bash_script = f.name
cases = {
    "faceweave ''": set(commands) | {"analyze"},
    "faceweave s": {c for c in commands if c.startswith("s")},
    "faceweave --execution-provider ''": {"cpu", "cuda", "openvino", "opencl"},
    "faceweave --telemetry ''": {"off", "errors", "usage", "all"},
    "faceweave jobs ''": {"submit", "list", "show", "cancel"},
    "faceweave swap --ident": {"--identity-strength"},
    "faceweave analyze --js": {"--json"},
    "faceweave --data-dir /tmp jobs list --st": {"--status"},
    "faceweave swap -s ''": set(),  # a file: bash's default completion
    "faceweave completions ''": set(),
}
for line, want in cases.items():
    prog = (f"source {bash_script}; COMP_WORDS=({line}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); "
            "_faceweave; printf '%s\\n' \"${COMPREPLY[@]}\"")
    got = set(subprocess.run(["bash", "-c", prog], capture_output=True, text=True).stdout.split())
    check(got == want, f"bash: {line} -> {sorted(got)}")
os.unlink(bash_script)

# zsh: the generated function with zsh's completion builtins replaced by ones that print what they get.
r = run("completions", "zsh")
check(r.returncode == 0 and r.stdout.startswith("#compdef faceweave"), "completions zsh")
with tempfile.NamedTemporaryFile("w", suffix=".zsh", delete=False) as f:
    f.write(r.stdout)
    zsh_script = f.name
check(subprocess.run(["zsh", "-n", zsh_script]).returncode == 0, "zsh -n: the script parses")
stubs = ("compdef(){ :; }; compadd(){ shift; print -l -- $@; }; _files(){ print FILES; }; "
         "_describe(){ local e; for e in ${(P)2}; do print -- ${e%%:*}; done; }; ")
zcases = {
    ("faceweave", ""): set(commands) | {"analyze"},
    ("faceweave", "--execution-provider", ""): {"cpu", "cuda", "openvino", "opencl"},
    ("faceweave", "jobs", ""): {"submit", "list", "show", "cancel"},
    ("faceweave", "analyse", "--js"): {"--json"},
    ("faceweave", "swap", "-t", ""): {"FILES"},
}
for words, want in zcases.items():
    prefix = words[-1]
    prog = (stubs + f"source {zsh_script}; words=({' '.join(repr(w) for w in words)}); CURRENT={len(words)}; "
            f"PREFIX={prefix!r}; _faceweave")
    got = set(subprocess.run(["zsh", "-c", prog], capture_output=True, text=True).stdout.split())
    if prefix.startswith("-"):
        got = {g for g in got if g.startswith(prefix)}
    check(got == want, f"zsh: {' '.join(words)} -> {sorted(got)}")
os.unlink(zsh_script)

# The man page: groff renders it with every warning on and says nothing; it names every command.
r = run("man")
check(r.returncode == 0 and r.stdout.startswith('.\\"'), "man prints roff")
g = subprocess.run(["groff", "-man", "-Tutf8", "-ww"], input=r.stdout, capture_output=True, text=True)
check(g.returncode == 0 and g.stderr == "", f"groff -ww: no warning ({g.stderr[:300]!r})")
text = re.sub(r".\x08", "", g.stdout)
for section in ("NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT"):
    check(re.search(rf"^{section}$", text, re.M) is not None, f"man: section {section}")
for c in commands:
    check(re.search(rf"^   {c}\b", text, re.M) is not None, f"man: command {c}")
check("--identity-strength" in text.replace("\u2010", "-") and f"faceweave {VERSION}" in text, "man: swap's options and the version")

# swap's help says it takes videos too and shows examples.
r = run("swap", "--help")
check("image or video" in r.stdout and "Examples:" in r.stdout and "clip.mp4" in r.stdout, "swap --help: images and videos, examples")

# Messages in the user's words: the flag as typed and the number as given, not identity_strength 1.500000.
data = os.environ.get("FACEWEAVE_TESTDATA_DIR", os.path.join(os.path.dirname(__file__), "../../../shared/testdata"))
with tempfile.TemporaryDirectory() as tmp:
    r = run("swap", "-s", os.path.join(data, "images", "obama.jpg"), "-t", os.path.join(data, "images", "biden.jpg"),
            "-o", os.path.join(tmp, "out.jpg"), "--identity-strength", "1.5")
    check(r.returncode == 2 and "--identity-strength must be between 0 and 1 (got 1.5)" in r.stderr,
          f"--identity-strength 1.5 is refused in CLI words ({r.stderr.strip()!r})")

# A video-only flag with an image target is said, not silently ignored.
with tempfile.TemporaryDirectory() as tmp:
    r = run("swap", "-s", os.path.join(data, "images", "obama.jpg"), "-t", os.path.join(data, "images", "biden.jpg"),
            "-o", os.path.join(tmp, "out.jpg"), "--trim-frame-end", "5")
    check(r.returncode == 0 and "--trim-frame-end applies to videos only; the target is an image" in r.stderr,
          f"a video-only flag with an image target is said ({r.stderr.strip()[-200:]!r})")

# A WebM output without an encoder given gets one the container holds (VP9), not a libx264 error.
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "clip.webm")
    r = run("swap", "-s", os.path.join(data, "images", "obama.jpg"), "-t", os.path.join(data, "video", "video_01.mp4"),
            "-o", out, "--trim-frame-end", "6", "--progress", "none")
    codec = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
                            "-of", "csv=p=0", out], capture_output=True, text=True).stdout.strip() if r.returncode == 0 else ""
    check(r.returncode == 0 and codec == "vp9", f"swap -o clip.webm encodes VP9 (exit {r.returncode}, codec {codec!r}, {r.stderr.strip()[-200:]!r})")

sys.exit(1 if failures else 0)
