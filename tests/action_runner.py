#!/usr/bin/env python3
"""The composite action (action.yml) run as the GitHub runner runs it.

The runner itself cannot run here, so this test does what it does for a composite action: reads
action.yml, evaluates each step's `if:`, substitutes `${{ inputs.* }}`, `${{ github.* }}` and
`${{ steps.*.outputs.* }}` in `env:` (never in `run:`: the test fails if a script holds an
expression), runs `run:` with `bash --noprofile --norc -eo pipefail`, gives each step fresh
GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files and reads them back, and
reads the log for workflow commands. `uses:` steps (actions/cache) are recorded and skipped.

The GitHub REST API is a local HTTP server (GITHUB_API_URL) implementing the endpoints the
action calls and recording every call; releases are served by another local server from an
archive this test builds from the eksgate binary; AWS is moto_server.

Run: python3 tests/action_runner.py  (EKSGATE_BIN: the eksgate binary; default: the cargo
target directory's debug build). Prints 'N passed, N failed'.
"""

import hashlib
import http.server
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import urllib.parse

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
BIN = os.environ.get("EKSGATE_BIN", os.path.join(TARGET, "debug", "eksgate"))
SARIF_SCHEMA = os.path.join(ROOT, "..", "shared", "schemas", "sarif-2.1.0.json")
REPO = "acme/platform"
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
EVIL = "$(touch PWNED)`touch PWNED2`%0A::error::forged ::stop-commands::tok <img src=x onerror=alert(1)> [x](javascript:alert(1)) -->"

# ---------------------------------------------------------------- the GitHub API double


class GitHub:
    """Issue comments (paginated, 100 per page at most, Link headers), deployments and their
    statuses; `fail_next` queues forced answers (status, headers, body)."""

    def __init__(self):
        self.calls = []
        self.comments = {}  # issue number -> list of {"id", "body"}
        self.next_id = 1000
        self.deployments = []
        self.statuses = []  # (deployment id, state, body)
        self.fail_next = []
        self.refuse_delete = False  # DELETE of a comment answers 403
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def seed(self, number, count):
        for i in range(count):
            self.comments.setdefault(number, []).append({"id": self.new_id(), "body": f"unrelated comment {i}",
                                                         "user": {"login": "alice", "type": "User"}})

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def handler(self):
        gh = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body=None, headers=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("content-type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def handle_any(self, method):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                url = urllib.parse.urlparse(self.path)
                with gh.lock:
                    gh.calls.append({"method": method, "path": url.path, "query": url.query, "body": body,
                                     "auth": self.headers.get("authorization", "")})
                    forced = gh.fail_next.pop(0) if gh.fail_next else None
                if forced:
                    return self.answer(forced[0], forced[2] if len(forced) > 2 else {"message": "forced"}, forced[1])
                m = re.fullmatch(r"/repos/acme/platform/issues/(\d+)/comments", url.path)
                if m and method == "GET":
                    q = urllib.parse.parse_qs(url.query)
                    per = min(int(q.get("per_page", ["30"])[0]), 100)
                    page = int(q.get("page", ["1"])[0])
                    items = gh.comments.get(int(m[1]), [])
                    chunk = items[(page - 1) * per: page * per]
                    headers = {}
                    if page * per < len(items):
                        headers["link"] = f'<{gh.url}{url.path}?per_page={per}&page={page + 1}>; rel="next"'
                    return self.answer(200, chunk, headers)
                if m and method == "POST":
                    c = {"id": gh.new_id(), "body": body["body"], "user": {"login": "github-actions[bot]", "type": "Bot"}}
                    gh.comments.setdefault(int(m[1]), []).append(c)
                    return self.answer(201, c)
                m = re.fullmatch(r"/repos/acme/platform/issues/comments/(\d+)", url.path)
                if m and method == "PATCH":
                    for items in gh.comments.values():
                        for c in items:
                            if c["id"] == int(m[1]):
                                c["body"] = body["body"]
                                return self.answer(200, c)
                    return self.answer(404, {"message": "Not Found"})
                if m and method == "DELETE" and gh.refuse_delete:
                    return self.answer(403, {"message": "Resource not accessible by integration"})
                if m and method == "DELETE":
                    for items in gh.comments.values():
                        for c in list(items):
                            if c["id"] == int(m[1]):
                                items.remove(c)
                                return self.answer(204)
                    return self.answer(404, {"message": "Not Found"})
                if url.path == "/repos/acme/platform/deployments" and method == "POST":
                    d = {"id": gh.new_id(), **body}
                    gh.deployments.append(d)
                    return self.answer(201, d)
                m = re.fullmatch(r"/repos/acme/platform/deployments/(\d+)/statuses", url.path)
                if m and method == "POST":
                    gh.statuses.append((int(m[1]), body["state"], body))
                    return self.answer(201, {"id": gh.new_id(), **body})
                return self.answer(404, {"message": "Not Found"})

            def do_GET(self):
                self.handle_any("GET")

            def do_POST(self):
                self.handle_any("POST")

            def do_PATCH(self):
                self.handle_any("PATCH")

            def do_DELETE(self):
                self.handle_any("DELETE")

        return Handler


# ---------------------------------------------------------------- the runner


EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class Run:
    def __init__(self, log, outputs, summary, code, skipped, annotations):
        self.log, self.outputs, self.summary, self.code = log, outputs, summary, code
        self.skipped, self.annotations = skipped, annotations


def parse_file_commands(text):
    """`name=value` and `name<<DELIM ... DELIM` records."""
    out, lines, i = {}, text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value = []
            i += 1
            while i < len(lines) and lines[i] != delim:
                value.append(lines[i])
                i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


def run_action(inputs, workspace, env_extra=None, event=None, event_name="pull_request"):
    action = yaml.safe_load(open(os.path.join(ROOT, "action.yml")))
    defaults = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    temp = tempfile.mkdtemp(prefix="runner-")
    event_path = os.path.join(temp, "event.json")
    json.dump(event or {}, open(event_path, "w"))
    job_summary, log, skipped, steps = [], [], [], {}
    base_env = {
        "PATH": os.path.dirname(BIN) + ":" + os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "GITHUB_ACTIONS": "true", "CI": "true", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
        "RUNNER_TEMP": os.path.join(temp, "tmp"), "RUNNER_TOOL_CACHE": os.path.join(temp, "toolcache"),
        "GITHUB_WORKSPACE": workspace, "GITHUB_REPOSITORY": REPO, "GITHUB_SHA": HEAD_SHA,
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": event_path, "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "platform checks", "GITHUB_JOB": "check", "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_HEAD_REF": EVIL, "GITHUB_REF_NAME": EVIL,
        "EKSGATE_GITHUB_RETRY_BASE_MS": "10",
    }
    os.makedirs(base_env["RUNNER_TEMP"])
    base_env.update(env_extra or {})
    github_ctx = {"action_path": ROOT, "action_ref": inputs.pop("__action_ref", "main"),
                  "action_repository": "eksgate/eksgate", "token": "ghs_test_token"}
    values = {**defaults, **inputs}

    def evaluate(expr):
        if expr.startswith("inputs."):
            v = values.get(expr[7:], "")
            return v.replace("${{ github.token }}", github_ctx["token"])
        if expr.startswith("github."):
            return github_ctx[expr[7:]]
        if expr.startswith("runner.temp"):
            return base_env["RUNNER_TEMP"]
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if m:
            return steps.get(m[1], {}).get(m[2], "")
        raise AssertionError(f"expression the test runner does not know: {expr}")

    def condition(text):
        py = re.sub(r"(inputs|steps)\.[\w.-]+", lambda m: repr(evaluate(m[0])), text)
        py = py.replace("&&", " and ").replace("||", " or ")
        return bool(eval(py, {"__builtins__": {}}))  # noqa: S307 (only our own action.yml)

    env_carry, path_carry, failed, code = {}, [], False, 0
    for index, step in enumerate(action["runs"]["steps"]):
        if failed or ("if" in step and not condition(step["if"])):
            continue
        if "uses" in step:
            skipped.append(step["uses"])
            continue
        assert "${{" not in step["run"], f"step {step.get('name')} interpolates an expression into run:"
        files = {n: os.path.join(temp, f"{n}-{index}") for n in ("out", "env", "path", "summary")}
        for f in files.values():
            open(f, "w").close()
        env = dict(base_env)
        env.update(env_carry)
        env["PATH"] = ":".join(path_carry + [env["PATH"]])
        for k, v in values.items():
            env["INPUT_" + k.upper().replace(" ", "_")] = v
        for k, v in (step.get("env") or {}).items():
            env[k] = EXPR.sub(lambda m: evaluate(m[1]), str(v))
        env.update(GITHUB_OUTPUT=files["out"], GITHUB_ENV=files["env"], GITHUB_PATH=files["path"],
                   GITHUB_STEP_SUMMARY=files["summary"])
        script = os.path.join(temp, f"step-{index}.sh")
        open(script, "w").write(step["run"])
        p = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", script], cwd=workspace, env=env,
                           capture_output=True, text=True, timeout=600)
        log.append(p.stdout + p.stderr)
        if step.get("id"):
            steps[step["id"]] = parse_file_commands(open(files["out"]).read())
        env_carry.update(parse_file_commands(open(files["env"]).read()))
        path_carry = [l for l in open(files["path"]).read().splitlines() if l] + path_carry
        job_summary.append(open(files["summary"]).read())
        if p.returncode != 0:
            failed, code = True, p.returncode
    outputs = {k: EXPR.sub(lambda m: evaluate(m[1]), str(v["value"])) for k, v in action["outputs"].items()}
    text = "".join(log)
    annotations = [l for l in text.splitlines() if re.match(r"\s*::(error|warning|notice)\b", l)]
    return Run(text, outputs, "".join(job_summary), code, skipped, annotations)


def commands_are_ours(run):
    """Every workflow command in the log is one eksgate wrote: an annotation titled eksgate, a
    group, a mask. None comes from input (a forged ::error, ::stop-commands::)."""
    for line in run.log.splitlines():
        s = line.lstrip()
        if not s.startswith("::"):
            continue
        ok = re.match(r"::(error|warning|notice)( file=[^,:]*,line=\d+(,col=\d+)?,endLine=\d+(,endColumn=\d+)?,)?( ?title=eksgate[^:]*)::", s) \
            or s.startswith(("::group::", "::endgroup::", "::add-mask::"))
        assert ok, f"a workflow command eksgate did not write: {line!r}"
        assert not s.startswith("::stop-commands"), line


# ---------------------------------------------------------------- fixtures


def workspace_with(files):
    ws = tempfile.mkdtemp(prefix="ws-")
    shutil.copytree(os.path.join(ROOT, "examples", "platform", "karpenter"), os.path.join(ws, "k8s"))
    for name, src in files.items():
        dest = os.path.join(ws, "k8s", name)
        if isinstance(src, str) and os.path.exists(src):
            shutil.copy(src, dest)
        else:
            open(dest, "w").write(src)
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    return ws


def pr_event(number=7, fork=False):
    return {"pull_request": {"number": number, "title": EVIL,
                             "head": {"sha": HEAD_SHA, "ref": EVIL, "repo": {"full_name": "fork/platform" if fork else REPO}},
                             "base": {"sha": "f" * 40, "repo": {"full_name": REPO}}}}


def broken(name):
    return os.path.join(ROOT, "examples", "broken", name)


EVIL_TAGS = """apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: client-evil
spec:
  role: KarpenterNodeRole-platform-prod
  amiSelectorTerms: [{alias: al2023@v20240807}]
  subnetSelectorTerms: [{tags: {karpenter.sh/discovery: platform-prod}}]
  securityGroupSelectorTerms: [{tags: {karpenter.sh/discovery: platform-prod}}]
  tags:
    cost-center: "%s"
    billing-team: development
    workload-type: applications
    client-id: "%s"
""" % (EVIL.replace('"', '\\"'), EVIL.replace('"', '\\"'))

# ---------------------------------------------------------------- tests


def test_check_comment_lifecycle():
    gh = GitHub()
    gh.seed(7, 150)  # the marker comment lands on page 2
    env = {"GITHUB_API_URL": gh.url}
    ws = workspace_with({"imds.yaml": broken("imds.yaml"), "tags.yaml": broken("tags.yaml")})
    r1 = run_action({"paths": "k8s", "sarif-file": "out/eksgate.sarif"}, ws, env, pr_event())
    assert r1.code == 1, r1.log
    assert int(r1.outputs["errors"]) > 0, r1.outputs
    assert os.path.isfile(r1.outputs["report-json"]) and os.path.isabs(r1.outputs["sarif-file"])
    assert "actions/cache@v4" not in r1.skipped or True
    errors = [a for a in r1.annotations if a.lstrip().startswith("::error")]
    warnings = [a for a in r1.annotations if a.lstrip().startswith("::warning")]
    assert 0 < len(errors) <= 10 and len(warnings) <= 10 and len(r1.annotations) <= 50, r1.annotations
    assert "### eksgate" in r1.summary and "`IMDS001`" in r1.summary
    sarif = json.load(open(r1.outputs["sarif-file"]))
    import jsonschema
    schema = json.load(open(SARIF_SCHEMA))
    jsonschema.validators.validator_for(schema)(schema).validate(sarif)
    assert sarif["runs"][0]["results"]
    bodies = [c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]]
    assert len(bodies) == 1, "run 1 creates the comment"
    gets = [c for c in gh.calls if c["method"] == "GET"]
    assert len(gets) == 2 and "page=2" in gets[1]["query"], gets
    assert all(c["auth"] == "Bearer ghs_test_token" for c in gh.calls)
    body = bodies[0]["body"]
    assert f"https://github.example/acme/platform/blob/{HEAD_SHA}/k8s/imds.yaml#L" in body, body
    # The comment as posted: scripts/pr-comment-screenshot.sh renders it to docs/pr-comment.png.
    os.makedirs(TARGET, exist_ok=True)
    with open(os.path.join(TARGET, "pr-comment.md"), "w") as f:
        f.write(body)

    # run 2: another finding set; the same comment is updated
    os.remove(os.path.join(ws, "k8s", "tags.yaml"))
    r2 = run_action({"paths": "k8s"}, ws, env, pr_event())
    assert r2.code == 1
    bodies = [c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]]
    assert len(bodies) == 1 and "tags.yaml" not in bodies[0]["body"], "run 2 updates in place"
    assert [c["method"] for c in gh.calls].count("PATCH") == 1

    # run 3: fixed; the comment says all clear
    os.remove(os.path.join(ws, "k8s", "imds.yaml"))
    r3 = run_action({"paths": "k8s"}, ws, env, pr_event())
    assert r3.code == 0, r3.log
    bodies = [c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]]
    assert len(bodies) == 1 and "all clear" in bodies[0]["body"]
    assert r3.outputs["errors"] == "0"
    assert len(gh.comments[7]) == 151
    for r in (r1, r2, r3):
        commands_are_ours(r)


def test_duplicate_comments_from_a_race_become_one():
    """Two runs raced and each created the comment (the second on page 3 of the listing), and a
    person quoted the marker: the newest bot comment is updated, the older one deleted, and the
    person's comment left alone."""
    gh = GitHub()
    gh.seed(7, 120)
    ws = workspace_with({"imds.yaml": broken("imds.yaml")})
    env = {"GITHUB_API_URL": gh.url}
    r = run_action({"paths": "k8s"}, ws, env, pr_event())
    assert r.code == 1 and "created the pull request comment" in r.log, r.log
    first = [c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]][0]
    mark = first["body"].split("\n")[0]
    gh.seed(7, 90)
    gh.comments[7].append({"id": gh.new_id(), "body": mark + "\nstale copy from a racing run",
                           "user": {"login": "github-actions[bot]", "type": "Bot"}})
    newest = gh.comments[7][-1]["id"]
    gh.comments[7].append({"id": gh.new_id(), "body": mark + "\na person's comment copying the marker",
                           "user": {"login": "mallory", "type": "User"}})
    gh.seed(7, 5)
    assert len(gh.comments[7]) == 218  # three pages of 100
    gh.calls.clear()
    r = run_action({"paths": "k8s"}, ws, env, pr_event())
    assert r.code == 1, r.log
    gets = [c["query"] for c in gh.calls if c["method"] == "GET"]
    assert len(gets) == 3 and "page=3" in gets[2], gets
    marked = [c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]]
    bots = [c for c in marked if c["user"]["type"] == "Bot"]
    assert [c["id"] for c in bots] == [newest], "the newest is kept, the older deleted"
    assert "IMDS001" in bots[0]["body"] and "stale copy" not in bots[0]["body"]
    assert [c["user"]["login"] for c in marked] == ["github-actions[bot]", "mallory"]
    assert f"deleted the duplicate pull request comment {first['id']}" in r.log, r.log
    assert [(c["method"], c["path"].rsplit("/", 1)[-1]) for c in gh.calls if c["method"] != "GET"] == [
        ("PATCH", str(newest)), ("DELETE", str(first["id"]))]
    # A duplicate that cannot be deleted: a warning, the update stands, the check's verdict too.
    gh.comments[7].insert(0, {"id": 5, "body": mark + "\nold", "user": {"login": "github-actions[bot]", "type": "Bot"}})
    gh.refuse_delete = True
    r = run_action({"paths": "k8s", "fail-on": "never"}, ws, env, pr_event())
    assert r.code == 0, r.log
    assert re.search(r"::warning title=eksgate::the duplicate pull request comment 5 was not deleted: GitHub denied", r.log), r.log
    assert any(c["id"] == 5 for c in gh.comments[7])
    commands_are_ours(r)


def test_annotations_stay_within_limits():
    many = "".join(open(broken(n)).read() + "\n---\n" for n in ("imds.yaml", "tags.yaml", "encryption.yaml", "separation.yaml"))
    files = {f"copy{i}.yaml": many for i in range(6)}
    ws = workspace_with(files)
    r = run_action({"paths": "k8s", "comment-on-pr": "false"}, ws, {}, pr_event())
    errors = [a for a in r.annotations if a.lstrip().startswith("::error")]
    assert int(r.outputs["errors"]) > 10, r.outputs
    assert len(errors) == 10, len(errors)
    assert len([a for a in r.annotations if a.lstrip().startswith("::warning")]) <= 10
    assert len(r.annotations) <= 50
    assert re.search(r"::notice title=eksgate::\d+ more findings are not annotated", r.log), r.log[-2000:]
    assert "eksgate: k8s/copy" in r.log  # the rest, as plain lines
    commands_are_ours(r)


def test_summary_is_cut_below_one_mebibyte():
    big = open(broken("tags.yaml")).read()
    files = {f"t{i}.yaml": big for i in range(1200)}
    ws = workspace_with(files)
    r = run_action({"paths": "k8s", "comment-on-pr": "false"}, ws, {}, pr_event())
    assert len(r.summary.encode()) < 1024 * 1024, len(r.summary)
    assert "The report is cut here" in r.summary


def test_injection_cannot_run_code_or_forge_commands():
    gh = GitHub()
    ws = workspace_with({EVIL.replace("/", "_") + ".yaml": EVIL_TAGS})
    inputs = {"paths": "k8s", "policy": "", "working-directory": "."}
    r = run_action(inputs, ws, {"GITHUB_API_URL": gh.url}, pr_event())
    assert r.code == 1, r.log
    for pwned in ("PWNED", "PWNED2"):
        assert not os.path.exists(os.path.join(ws, pwned)) and not os.path.exists(os.path.join(ws, "k8s", pwned))
    commands_are_ours(r)
    body = [c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]][0]["body"]
    # Outside code spans (where GitHub shows text literally) no HTML and no link of the input.
    prose = re.sub(r"(`+)(.+?)\1", "", body)
    assert body.count("<!--") == 1 and body.split("\n")[0].endswith(" -->") and "<img" not in prose and "](javascript" not in prose, prose
    assert not any(l.lstrip().startswith("::") for l in body.splitlines())
    # A hostile input value through `paths` is a path, not code
    r = run_action({"paths": "$(touch PWNED3)\n`touch PWNED4`", "comment-on-pr": "false"}, ws, {}, pr_event())
    assert r.code == 2 and not os.path.exists(os.path.join(ws, "PWNED3")) and not os.path.exists(os.path.join(ws, "PWNED4"))
    commands_are_ours(r)


def test_api_failures_never_fail_a_passing_check():
    ws = workspace_with({"imds.yaml": broken("imds.yaml")})
    for forced, expect in [
        ([(401, {})], "401 Unauthorized"),
        ([(403, {}, {"message": "Resource not accessible by integration"})], "forks"),
        ([(404, {})], "404 Not Found"),
        ([(422, {}, {"message": "Validation Failed"})], "Validation Failed"),
        ([(502, {})] * 4, "502"),
    ]:
        gh = GitHub()
        gh.fail_next = list(forced)
        r = run_action({"paths": "k8s", "fail-on": "never"}, ws, {"GITHUB_API_URL": gh.url}, pr_event(fork=True))
        assert r.code == 0, (expect, r.log)
        assert re.search(r"::warning title=eksgate::the pull request comment was not written", r.log), r.log
        assert expect in r.log, (expect, r.log)
        assert "eksgate" in r.summary and "NOTE" in r.summary
        commands_are_ours(r)
    # temporary failures are retried: 5xx, then a secondary rate limit with retry-after
    gh = GitHub()
    gh.fail_next = [(500, {}), (403, {"retry-after": "1"}, {"message": "You have exceeded a secondary rate limit"})]
    started = time.time()
    r = run_action({"paths": "k8s", "fail-on": "never"}, ws, {"GITHUB_API_URL": gh.url}, pr_event())
    assert r.code == 0 and "created the pull request comment" in r.log, r.log
    assert time.time() - started >= 1.0, "retry-after honoured"
    assert len([c for c in gh.comments[7] if "eksgate:pr-comment" in c["body"]]) == 1


def serve_dir(directory):
    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=directory, **k)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_port}"


def make_release(version, tamper=False):
    d = tempfile.mkdtemp(prefix="release-")
    target = "x86_64-unknown-linux-musl"
    os.makedirs(os.path.join(d, f"v{version}"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(BIN, arcname=f"eksgate-{target}/eksgate")
    data = buf.getvalue()
    archive = f"eksgate-{target}.tar.gz"
    open(os.path.join(d, f"v{version}", archive), "wb").write(data)
    digest = hashlib.sha256(data + (b"x" if tamper else b"")).hexdigest()
    open(os.path.join(d, f"v{version}", "SHA256SUMS"), "w").write(f"{digest}  {archive}\n")
    return d


def own_version():
    text = open(os.path.join(ROOT, "Cargo.toml")).read()
    return re.search(r'\[workspace\.package\][^\[]*?version = "([^"]+)"', text)[1]


def path_without_eksgate():
    return ":".join(p for p in os.environ["PATH"].split(":") if not os.path.exists(os.path.join(p, "eksgate")))


def test_install_downloads_the_release_and_verifies_it():
    version = own_version()
    d = make_release(version)
    srv, url = serve_dir(d)
    ws = workspace_with({})
    env = {"EKSGATE_RELEASE_BASE_URL": url, "PATH": path_without_eksgate()}
    started = time.time()
    r = run_action({"__action_ref": "v0", "paths": "k8s", "comment-on-pr": "false"}, ws, env, pr_event())
    took = time.time() - started
    assert r.code == 0, r.log
    assert f"eksgate {version} (x86_64-unknown-linux-musl), sha256" in r.log and "verified" in r.log, r.log
    assert r.skipped == [], "no build cache on the download path"
    assert took < 30, took
    print(f"  download install + check: {took:.2f} s")
    srv.shutdown()
    # a tampered checksum refuses to run the binary
    srv, url = serve_dir(make_release(version, tamper=True))
    r = run_action({"__action_ref": "v0", "paths": "k8s"}, ws, {**env, "EKSGATE_RELEASE_BASE_URL": url}, pr_event())
    assert r.code != 0 and "checksum mismatch" in r.log, r.log
    commands_are_ours(r)
    # an explicit version with no release is an error, not a silent build
    r = run_action({"version": "9.9.9", "paths": "k8s"}, ws, {**env, "EKSGATE_RELEASE_BASE_URL": url}, pr_event())
    assert r.code != 0 and "no release v9.9.9" in r.log, r.log
    r = run_action({"version": "main; rm -rf /", "paths": "k8s"}, ws, env, pr_event())
    assert r.code != 0 and "must be a release version" in r.log
    srv.shutdown()


def test_install_builds_from_the_checkout_without_a_release():
    """A branch ref builds with cargo (a recording stand-in here: a real build takes minutes),
    and the build cache step runs first."""
    fake = tempfile.mkdtemp(prefix="fakecargo-")
    record = os.path.join(fake, "args")
    open(os.path.join(fake, "cargo"), "w").write(f"""#!/bin/sh
printf '%s\\n' "$@" > {record}
root=""; while [ $# -gt 0 ]; do [ "$1" = --root ] && root="$2"; shift; done
mkdir -p "$root/bin" && cp {BIN} "$root/bin/eksgate"
""")
    os.chmod(os.path.join(fake, "cargo"), 0o755)
    ws = workspace_with({})
    env = {"PATH": fake + ":" + path_without_eksgate().replace(os.path.expanduser("~/.cargo/bin"), "/nonexistent")}
    r = run_action({"__action_ref": "main", "paths": "k8s", "comment-on-pr": "false"}, ws, env, pr_event())
    assert r.code == 0, r.log
    assert r.skipped == ["actions/cache@v4"]
    args = open(record).read().split("\n")
    assert args[:4] == ["install", "--locked", "--path", os.path.join(ROOT, "crates/cli")], args
    assert "--no-default-features" in args and "github" in args, "check mode leaves the AWS SDK out"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


OIDC_JWT = "eyJhbGciOiJSUzI1NiJ9.eksgate-runner-test-jwt.c2lnbmF0dXJlLXNlY3JldA"
OIDC_BEARER = "runner-request-bearer-0123456789"


class Oidc:
    """The runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): GitHub's own cannot run
    here. It checks the request bearer (ACTIONS_ID_TOKEN_REQUEST_TOKEN) and records the
    audience asked for."""

    def __init__(self):
        self.audiences = []
        oidc = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                ok = self.headers.get("authorization") == f"Bearer {OIDC_BEARER}"
                oidc.audiences.append(q.get("audience", [""])[0] if ok else "(refused)")
                data = json.dumps({"count": 1, "value": OIDC_JWT} if ok else {"message": "bad bearer"}).encode()
                self.send_response(200 if ok else 401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.env = {"ACTIONS_ID_TOKEN_REQUEST_URL": f"http://127.0.0.1:{self.server.server_port}/token?api-version=2.0",
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": OIDC_BEARER}


class Kube:
    """The cluster's Kubernetes API, for the `kubernetes-api` gate: no EKS cluster can run here
    (moto's DescribeCluster endpoint is a made-up host). `/readyz` fails twice, then answers ok;
    every request's EKS token (`k8s-aws-v1.` + base64url of a presigned STS
    GetCallerIdentity URL) is decoded and its access key recorded."""

    def __init__(self):
        self.readyz = 0
        self.keys = []
        self.token_errors = []
        kube = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                err = kube.verify(self.headers.get("authorization", ""))
                if err:
                    kube.token_errors.append(err)
                    status, text = 401, "Unauthorized"
                elif self.path.startswith("/readyz"):
                    kube.readyz += 1
                    status, text = (500, "[-]etcd failed") if kube.readyz <= 2 else (200, "ok")
                else:
                    status, text = 404, "not found"
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def verify(self, header):
        import base64
        token = header.removeprefix("Bearer ")
        if not token.startswith("k8s-aws-v1."):
            return f"not an EKS token: {token[:20]!r}"
        raw = token[len("k8s-aws-v1."):]
        url = urllib.parse.urlparse(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        if url.hostname != "sts.us-east-1.amazonaws.com" or q.get("Action") != "GetCallerIdentity":
            return f"not a GetCallerIdentity URL: {url.geturl()[:80]}"
        if "x-k8s-aws-id" not in q.get("X-Amz-SignedHeaders", "").split(";"):
            return "x-k8s-aws-id not signed"
        self.keys.append(q.get("X-Amz-Credential", "").split("/")[0])
        return None


def test_deploy_oidc_sts_eks_kubernetes_and_the_deployment_record():
    """Deploy mode end to end: the job's OIDC token from the runner's endpoint, STS
    AssumeRoleWithWebIdentity and EKS DescribeCluster against moto_server, the Kubernetes API
    gate against a local server, and the GitHub Deployment with its statuses in order."""
    if not shutil.which("moto_server") or not shutil.which("aws"):
        raise AssertionError("moto_server and the aws CLI are required (scripts/test.sh installs them)")
    port = free_port()
    moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        setup = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
        subprocess.run(["aws", "eks", "create-cluster", "--name", "acme-prod", "--role-arn",
                        "arn:aws:iam::123456789012:role/eks", "--resources-vpc-config", "subnetIds=subnet-1"],
                       env={**os.environ, **setup}, check=True, capture_output=True)
        ws = workspace_with({})
        plan = """apiVersion: eksgate.dev/v1alpha1
kind: DeployPlan
metadata: {name: acme-prod}
spec:
  cluster: {name: %s, region: us-east-1}
  credentials: {roleArn: "arn:aws:iam::123456789012:role/from-the-plan"}
  stages:
    - name: cluster
      gates: [eks-cluster-active, {name: kubernetes-api, timeout: 30s}]
"""
        open(os.path.join(ws, "deploy.yaml"), "w").write(plan % "acme-prod")
        open(os.path.join(ws, "missing.yaml"), "w").write(plan % "nope")
        gh, oidc, kube = GitHub(), Oidc(), Kube()
        home = tempfile.mkdtemp(prefix="home-")
        # No AWS keys of its own: the run's credentials can only come from OIDC -> STS.
        env = {"GITHUB_API_URL": gh.url, "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_CONFIG_FILE": os.path.join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "creds"),
               "GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ATTEMPT": "1",
               "EKSGATE_KUBE_API_URL": kube.url, **oidc.env}
        role = "arn:aws:iam::123456789012:role/eksgate-deploy"
        inputs = {"mode": "deploy", "environment": "production", "timeout": "2m", "role-to-assume": role,
                  "aws-region": "us-east-1", "audience": "sts.amazonaws.com", "role-session-name": "acme-prod-deploy",
                  "role-duration-seconds": "900"}
        r = run_action(dict(inputs), ws, env, {}, "push")
        assert r.code == 0, r.log
        assert oidc.audiences == ["sts.amazonaws.com"], oidc.audiences
        assert f"AssumeRoleWithWebIdentity `{role}` as session `acme-prod-deploy` for 900s" in r.log, r.log
        assert "cluster `acme-prod` is ACTIVE" in r.log and "[kubernetes-api] ready" in r.log, r.log
        assert kube.readyz >= 3 and not kube.token_errors, (kube.readyz, kube.token_errors)
        # The API saw moto's temporary keys from AssumeRoleWithWebIdentity, not a key of the host.
        assert kube.keys and all(k.startswith("ASIA") for k in kube.keys), kube.keys
        # Secrets only on the `::add-mask::` lines the runner consumes.
        for line in r.log.splitlines():
            if not line.startswith("::add-mask::"):
                assert not any(k in line for k in [OIDC_JWT, OIDC_BEARER, *kube.keys]), line
        assert r.outputs["result"] == "success" and r.outputs["cluster-name"] == "acme-prod", r.outputs
        assert r.outputs["cluster-endpoint"] == kube.url and r.outputs["stages-completed"] == "cluster", r.outputs
        assert r.outputs["deployment-id"] == str(gh.deployments[0]["id"]), r.outputs
        assert gh.deployments[0]["environment"] == "production" and gh.deployments[0]["ref"] == HEAD_SHA
        assert [s[1] for s in gh.statuses] == ["in_progress", "success"], gh.statuses
        run_url = "https://github.example/acme/platform/actions/runs/4242"
        assert all(s[2]["log_url"] == run_url for s in gh.statuses), gh.statuses
        # The cluster endpoint the deploy used is the environment's URL (shown on the PR and the
        # environment page), set with the final status.
        assert gh.statuses[1][2]["environment_url"] == kube.url, gh.statuses
        assert "environment_url" not in gh.statuses[0][2]
        calls = [(c["method"], c["path"]) for c in gh.calls]
        d = gh.deployments[0]["id"]
        assert calls == [("POST", "/repos/acme/platform/deployments"),
                         ("POST", f"/repos/acme/platform/deployments/{d}/statuses"),
                         ("POST", f"/repos/acme/platform/deployments/{d}/statuses")], calls
        commands_are_ours(r)

        # A plan that never talks to the Kubernetes API: the endpoint is DescribeCluster's (moto's
        # made-up host), as `aws eks describe-cluster` gives it, and still the environment URL.
        described = json.loads(subprocess.run(["aws", "eks", "describe-cluster", "--name", "acme-prod"],
                                              env={**os.environ, **setup}, check=True, capture_output=True).stdout)
        moto_endpoint = described["cluster"]["endpoint"]
        assert moto_endpoint.startswith("https://") and moto_endpoint != kube.url
        eks_only = (plan % "acme-prod").replace("{name: kubernetes-api, timeout: 30s}", "nodegroups-active")
        open(os.path.join(ws, "eks-only.yaml"), "w").write(eks_only)
        no_tunnel = {k: v for k, v in env.items() if k != "EKSGATE_KUBE_API_URL"}
        r = run_action({**inputs, "plan": "eks-only.yaml"}, ws, no_tunnel, {}, "push")
        assert r.code == 0, r.log
        assert r.outputs["cluster-endpoint"] == moto_endpoint, r.outputs
        assert gh.statuses[-1][1] == "success" and gh.statuses[-1][2]["environment_url"] == moto_endpoint, gh.statuses
        # Forgotten, so that the order checks below read as before.
        del gh.statuses[-2:]
        del gh.deployments[-1]
        oidc.audiences.pop()

        # A failing deploy (DescribeCluster: no such cluster): in_progress, then failure, in order.
        r = run_action({**inputs, "plan": "missing.yaml", "timeout": "15s"}, ws, env, {}, "push")
        assert r.code == 1, r.log
        assert [s[1] for s in gh.statuses] == ["in_progress", "success", "in_progress", "failure"], gh.statuses
        assert r.outputs["result"] == "failure" and r.outputs["deployment-id"] == str(gh.deployments[1]["id"])
        commands_are_ours(r)

        # A dry run records nothing and asks for no token.
        r = run_action({"mode": "deploy", "dry-run": "true", "environment": "production"}, ws, env, {}, "push")
        assert r.code == 0 and len(gh.deployments) == 2 and len(oidc.audiences) == 2, r.log

        # No `id-token: write`: the runner sets no ACTIONS_ID_TOKEN_REQUEST_*. With role-to-assume
        # the step stops before anything; with the plan's roleArn eksgate says the same. Both
        # name the permission, in an annotation, without a stack trace.
        no_oidc = {k: v for k, v in env.items() if not k.startswith("ACTIONS_ID_TOKEN")}
        r = run_action({"mode": "deploy", "role-to-assume": role, "environment": "production"}, ws, no_oidc, {}, "push")
        assert r.code == 1 and re.search(r"::error title=eksgate deploy::.*`permissions: id-token: write`", r.log), r.log
        assert len(gh.deployments) == 2, "nothing recorded for a job that cannot deploy"
        r = run_action({"mode": "deploy", "environment": "production"}, ws, no_oidc, {}, "push")
        assert r.code == 1 and "id-token: write" in r.log and "GitHub OIDC is not available to this job" in r.log, r.log
        assert "panicked" not in r.log and "stack backtrace" not in r.log
        assert [s[1] for s in gh.statuses][-1] == "failure"
        commands_are_ours(r)

        # The token may not write deployments: the deploy still runs and passes.
        gh.fail_next = [(403, {}, {"message": "Resource not accessible by integration"})]
        r = run_action(dict(inputs), ws, env, {}, "push")
        assert r.code == 0 and "the GitHub deployment was not recorded" in r.log, r.log
        commands_are_ours(r)
    finally:
        moto.terminate()
        moto.wait(10)


def test_readme_lists_every_input_and_output():
    """The README's Action tables name exactly action.yml's inputs and outputs, with its
    defaults (a default written as code is the literal default; words describe an empty one)."""
    action = yaml.safe_load(open(os.path.join(ROOT, "action.yml")))
    text = open(os.path.join(ROOT, "README.md")).read()
    section = text[text.index("\n## GitHub Action\n"):]
    section = section[:section.index("\n## ", 1)]
    inputs, outputs, table = {}, {}, None
    for line in section.splitlines():
        if line.startswith("| input |"):
            table = inputs
        elif line.startswith("| output |"):
            table = outputs
        elif not line.startswith("|"):
            table = None
        elif table is not None and line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            table[cells[0].strip("`")] = cells
    assert set(inputs) == set(action["inputs"]), set(inputs) ^ set(action["inputs"])
    assert set(outputs) == set(action["outputs"]), set(outputs) ^ set(action["outputs"])
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", "")).replace("${{ github.token }}", "github.token")
        cell = inputs[name][2]
        if default:
            assert cell == f"`{default}`", (name, cell, default)
        else:
            assert "`" not in cell or not cell.startswith("`"), (name, cell)
        mode = inputs[name][1]
        described = spec["description"]
        assert (mode == "both") == (not described.startswith(("check:", "deploy:"))), (name, mode)
        assert mode == "both" or described.startswith(mode + ":"), (name, mode, described)
    for name, spec in action["outputs"].items():
        assert spec["description"].startswith(outputs[name][1] + ":"), (name, outputs[name])


def test_unknown_mode():
    ws = workspace_with({})
    r = run_action({"mode": "$(touch PWNED)"}, ws, {}, pr_event())
    assert r.code == 2 and "unknown mode" in r.log and not os.path.exists(os.path.join(ws, "PWNED"))


def main():
    assert os.path.exists(BIN), f"build eksgate first: {BIN}"
    only = sys.argv[1:]
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and (not only or n in only)]
    passed = failed = 0
    for name, fn in tests:
        started = time.time()
        try:
            fn()
            passed += 1
            print(f"ok   {name} ({time.time() - started:.1f} s)")
        except Exception:  # noqa: BLE001 (report every failure)
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
