"""`judge pairwise` end to end: small real tasks (rendered reference videos) and run
directories in tmp folders, real Chromium for the candidates, and the judge model behind
`httpx.MockTransport` answering with recorded exchanges (tests/fixtures/http/pairwise_*.json
and the provider fixtures), chosen by what each request shows."""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from agents.pairwise import encode_png, frame_indices, render_instants
from agents.providers import get_model
from judge.align import align
from judge.pairwise import add_parser, pairwise, render_summary
from judge.prefs import load_pairwise, load_prefs
from judge.record import render_page
from judge.tasks import Action, TaskSpec, Viewport, load_task, save_spec
from tests.helpers.http_replay import Sleeps, images_sent, load

SIZE = Viewport(width=160, height=120)
STYLE = "html,body{margin:0;width:160px;height:120px;background:#fff;overflow:hidden}"
SLIDING_RED = (f"<!doctype html><html><head><style>{STYLE}#c{{position:absolute;left:10px;top:45px;width:30px;"
               "height:30px;border-radius:50%;background:#e22;animation:slide 1s linear forwards}"
               "@keyframes slide{to{transform:translateX(110px)}}</style></head><body><div id=c></div></body></html>")
STILL_RED = SLIDING_RED.replace("animation:slide 1s linear forwards", "")
STILL_BLUE = (f"<!doctype html><html><head><style>{STYLE}#s{{position:absolute;left:60px;top:30px;width:50px;"
              "height:50px;background:#23c}</style></head><body><div id=s></div></body></html>")
PAGES = {"good": SLIDING_RED, "twin": SLIDING_RED, "meh": STILL_RED, "bad": STILL_BLUE}
PREFS = """model_1,model_2,example,winner_overall,winner_motion,winner_appearance
good,bad,slide,good,good,good
meh,good,slide,good,good,EQUAL
good,twin,slide,EQUAL,EQUAL,EQUAL
good,ghost,slide,good,good,good
bad,good,nowhere,good,good,good
"""
DIMS = ("overall", "motion", "appearance")
N = 8  # default --frames


@pytest.fixture(scope="module")
def tasks_dir(tmp_path_factory, loop, browser):
    """tasks/slide: a red circle sliding right for 1 s at 10 fps (video rendered by Chromium)."""
    root = tmp_path_factory.mktemp("tasks")
    out = root / "animation" / "slide"
    loop.run_until_complete(render_page(browser, SLIDING_RED, viewport=SIZE, fps=10, n_frames=10,
                                        video_path=out / "video.mp4", keep_frames=False))
    (out / "reference.html").write_text(SLIDING_RED)
    save_spec(TaskSpec(id="slide", family="animation", viewport=SIZE, fps=10, duration_s=1.0, video="video.mp4",
                       reference_page="reference.html"), out)
    return root


def write_run(root, model, pages: dict[str, str], artifacts: dict[str, bytes] | None = None):
    """A run directory in the CONTRACTS format (run.json, results.jsonl, pages/<task>/index.html)."""
    run = root / "runs" / model
    rows = []
    for task, html in pages.items():
        (run / "pages" / task).mkdir(parents=True)
        (run / "pages" / task / "index.html").write_text(html)
        rows.append({"task_id": task, "family": "animation", "model": model, "exec": True, "appearance": 0.5,
                     "temporal": 0.5, "static": False, "error": None, "judge_error": None})
    for rel, data in (artifacts or {}).items():
        (run / "artifacts" / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / "artifacts" / rel).write_bytes(data)
    (run / "run.json").write_text(json.dumps({"name": model, "model": model, "judge_model": None}))
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return run


@pytest.fixture
def setup(tmp_path, tasks_dir):
    """Prefs + four runs (two named with NAME=, two by their results rows)."""
    prefs = tmp_path / "valid_trials.csv"
    prefs.write_text(PREFS)
    runs = [f"{m}={write_run(tmp_path, m, {'slide': html})}" if m in ("good", "meh")
            else str(write_run(tmp_path, m, {"slide": html})) for m, html in PAGES.items()]
    return prefs, runs, tmp_path / "pairwise.jsonl"


class JudgeServer:
    """A judge model over MockTransport. `choose(n, body)` -> (fixture, exchange index) picks the
    recorded exchange for request n; a request that does not match it is answered 418 and noted."""

    def __init__(self, choose, provider="openai"):
        self.choose, self.provider = choose, provider
        self.requests: list[httpx.Request] = []
        self.problems: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name, i = self.choose(len(self.requests), body)
        self.requests.append(request)
        ex = load(name)[i]
        if not request.url.path.endswith(ex["request"]["path"]):
            self.problems.append(f"{request.url.path} does not match {name}")
            return httpx.Response(418, json={"error": {"message": "not recorded"}})
        r = ex["response"]
        return httpx.Response(r["status"], headers=r["headers"], json=r["body"])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]


def decode(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), np.float32)


def candidate_distances(provider, body):
    imgs = [decode(x) for x in images_sent(provider, body)]
    k = len(imgs) // 3
    d = [sum(np.abs(imgs[i] - imgs[j * k + i]).mean() for i in range(k)) for j in (1, 2)]
    return d


def closer(n, body):
    """A consistent judge: prefers the candidate whose frames are closer to the reference's."""
    d1, d2 = candidate_distances("openai", body)
    return ("pairwise_openai_verdict_1" if d1 < d2 else "pairwise_openai_verdict_2" if d2 < d1
            else "pairwise_openai_tie"), 0


def always(name):
    return lambda n, body: (name, 0)


def judge_model(server, env, spec="openai/gpt-4o", **kw):
    env.setenv("ANTHROPIC_API_KEY" if spec.startswith("anthropic") else "OPENAI_API_KEY", "sk-test-key-123")
    sleeps = Sleeps()
    return get_model(spec, http_client=server.client(), sleep=sleeps, **kw), sleeps


def args_for(prefs, runs, tasks, out, *extra, judge="openai/gpt-4o"):
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    argv = ["pairwise", "--prefs", str(prefs), "--run", *runs, "--tasks", str(tasks), "--judge-model", judge]
    return parser.parse_args(argv + (["--out", str(out)] if out else []) + list(extra))


def rows_of(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_unit(rows):
    return {(r["a"], r["b"], r["dimension"], r["order"]): r for r in rows}


def judge_row(report, dim, name="openai/gpt-4o"):
    [row] = [a for a in report["alignment"] if a["kind"] == "judge" and a["dimension"] == dim and a["name"] == name]
    return row


def test_consistent_judge_maps_screen_answers_to_model_fields(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    server = JudgeServer(closer)
    model, _ = judge_model(server, clean_env)
    code, summary = run(pairwise(args_for(prefs, runs, tasks_dir, out), browser=browser, model=model))
    # good and twin render identically, so their two orders are the same prompt: the second is a cache hit
    assert code == 0 and not server.problems and len(server.requests) == 15
    rows = rows_of(out)
    assert len(rows) == 18 and sum(r["cached"] for r in rows) == 3
    assert all(r["cached"] for r in rows if r["b"] == "twin" and r["order"] == "ba") or \
        all(r["cached"] for r in rows if r["b"] == "twin" and r["order"] == "ab")
    u = by_unit(rows)
    for dim in DIMS:
        # bad < good alphabetically: in order ab good is Candidate 2, in order ba Candidate 1; good wins both
        assert (u[("bad", "good", dim, "ab")]["answer"], u[("bad", "good", dim, "ab")]["verdict"]) == ("2", "b")
        assert (u[("bad", "good", dim, "ba")]["answer"], u[("bad", "good", dim, "ba")]["verdict"]) == ("1", "b")
        assert (u[("good", "meh", dim, "ab")]["answer"], u[("good", "meh", dim, "ab")]["verdict"]) == ("1", "a")
        assert (u[("good", "meh", dim, "ba")]["answer"], u[("good", "meh", dim, "ba")]["verdict"]) == ("2", "a")
        assert u[("good", "twin", dim, "ab")]["verdict"] == u[("good", "twin", dim, "ba")]["verdict"] == "tie"
    assert all(r["judge_model"] == "openai/gpt-4o" and r["error"] is None and r["raw"].rstrip().endswith(
        ("Verdict: 1", "Candidate 2", "Verdict: tie")) and r["frames"] == N and (r["cached"] or r["cost_usd"] > 0)
               for r in rows)
    assert summary["skipped"] == {"no page for model 'ghost'": 1, "task 'nowhere' not under --tasks": 1}
    for dim in DIMS:
        s = summary["dimensions"][dim]
        assert (s["verdicts"], s["ties"], s["failed"], s["swap_units"], s["swap_consistency"]) == (6, 2, 0, 3, 1.0)
        assert s["first_shown_rate"] == 0.5
    assert summary["cost"]["calls"] == 15 and summary["cost"]["cached_calls"] == 3 and summary["cost"]["spent_usd"] > 0
    text = render_summary(summary)
    assert "swap-consistent" in text and "no page for model 'ghost'" in text and "$" in text

    report = align(load_prefs(prefs), verdicts=load_pairwise(out), n_boot=0)
    j = judge_row(report, "overall")
    assert j["n_verdicts"] == 6 and j["n_failed"] == 0 and j["n_used"] == 3
    assert j["agreement"] == 1.0 and j["three_class"]["agreement"] == 1.0
    assert j["swap_consistency"] == 1.0 and j["first_position_rate"] == 0.5


def test_requests_show_labelled_images_with_candidates_swapped_between_orders(setup, tasks_dir, browser, run,
                                                                               clean_env):
    prefs, runs, out = setup
    server = JudgeServer(closer)
    model, _ = judge_model(server, clean_env)
    run(pairwise(args_for(prefs, runs, tasks_dir, out, "--limit", "1"), browser=browser, model=model))
    assert len(server.requests) == 6  # one comparison (bad, good) x 3 dimensions x 2 orders
    task = load_task(tasks_dir / "animation" / "slide")
    from judge.video import reference_frames

    ref_frames = reference_frames(task)
    want_ref = [encode_png(ref_frames[i], 768) for i in frame_indices(10, N)]
    groups: dict[str, list[list[bytes]]] = {}
    for body in server.bodies():
        imgs = images_sent("openai", body)
        assert len(imgs) == 3 * N
        assert imgs[:N] == want_ref  # the task video's frames at the chosen instants
        texts = [p["text"] for p in body["messages"][1]["content"] if p["type"] == "text"]
        labels = [t for t in texts if t.startswith(("Reference, ", "Candidate 1, ", "Candidate 2, "))]
        assert labels == [f"{g}, t={i / 10:.2f} s" for g in ("Reference", "Candidate 1", "Candidate 2")
                          for i in frame_indices(10, N)]
        kinds = [p["type"] for p in body["messages"][1]["content"]]
        assert all(kinds[i - 1] == "text" for i, k in enumerate(kinds) if k == "image_url")  # each image labelled
        dim = texts[0].split(".")[0].removeprefix("Criterion: ")
        groups.setdefault(dim, []).append(imgs)
    assert sorted(groups) == sorted(DIMS)
    for first, second in groups.values():
        assert first[N:2 * N] == second[2 * N:] and first[2 * N:] == second[N:2 * N] and first[N:2 * N] != first[2 * N:]
    # 'good' renders the reference page under the same clock: its frames match the video's; 'bad' does not
    distances = [candidate_distances("openai", b) for b in server.bodies()]
    assert all(min(d) < 1.0 < max(d) for d in distances), distances


def test_position_biased_judge_flips_between_orders(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    server = JudgeServer(always("pairwise_openai_verdict_1"))
    model, _ = judge_model(server, clean_env)
    code, summary = run(pairwise(args_for(prefs, runs, tasks_dir, out), browser=browser, model=model))
    assert code == 0
    rows = rows_of(out)
    assert {r["answer"] for r in rows} == {"1"}
    assert all(r["verdict"] == {"ab": "a", "ba": "b"}[r["order"]] for r in rows) and len(rows) == 18
    assert summary["dimensions"]["motion"]["swap_consistency"] == 0.0
    assert summary["dimensions"]["motion"]["first_shown_rate"] == 1.0
    j = judge_row(align(load_prefs(prefs), verdicts=load_pairwise(out), n_boot=0), "motion")
    assert j["swap_consistency"] == 0.0 and j["first_position_rate"] == 1.0 and j["agreement"] == 0.0


def test_malformed_reply_is_recorded_with_null_verdict_never_guessed(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    server = JudgeServer(always("pairwise_openai_no_verdict"))
    model, _ = judge_model(server, clean_env)
    code, summary = run(pairwise(args_for(prefs, runs, tasks_dir, out, "--limit", "1"), browser=browser,
                                 model=model))
    assert code == 0  # the judge's failure is data, not an infrastructure error
    rows = rows_of(out)
    assert len(rows) == 6 and all(r["verdict"] is None and r["answer"] is None and r["error_kind"] == "parse"
                                  and "no 'Verdict:' line" in r["error"] and "decide between 1 and 2" in r["raw"]
                                  for r in rows)
    assert summary["dimensions"]["overall"]["failed"] == 2 and summary["dimensions"]["overall"]["verdicts"] == 0
    j = judge_row(align(load_prefs(prefs), verdicts=load_pairwise(out), n_boot=0), "overall")
    assert j["n_failed"] == 2 and j["n_used"] == 0
    # re-running re-asks the failed units, answered from the cache: no request, no duplicate rows
    server2 = JudgeServer(closer)
    model2, _ = judge_model(server2, clean_env)
    run(pairwise(args_for(prefs, runs, tasks_dir, out, "--limit", "1"), browser=browser, model=model2))
    again = rows_of(out)
    assert server2.requests == [] and len(again) == 6 and set(by_unit(again)) == set(by_unit(rows))
    assert all(r["verdict"] is None and r["error_kind"] == "parse" and r["cached"] for r in again)


def test_rate_limit_is_retried_then_answered(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    server = JudgeServer(lambda n, body: ("pairwise_openai_rate_limit", 0) if n == 0 else closer(n, body))
    model, sleeps = judge_model(server, clean_env)
    code, _ = run(pairwise(args_for(prefs, runs, tasks_dir, out, "--limit", "1", "--dimensions", "overall"),
                           browser=browser, model=model))
    assert code == 0 and len(server.requests) == 3 and sleeps.calls == [2.0]
    assert sorted(r["verdict"] for r in rows_of(out)) == ["b", "b"]


def test_provider_failures_are_error_rows_and_resume_redoes_only_them(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    args = args_for(prefs, runs, tasks_dir, out, "--dimensions", "overall")
    failing = JudgeServer(lambda n, body: ("openai_server_error_then_success", 0) if n < 2 else closer(n, body))
    model, _ = judge_model(failing, clean_env, max_attempts=1)
    code, summary = run(pairwise(args, browser=browser, model=model))
    assert code == 1 and summary["counts"]["provider"] == 2
    rows = rows_of(out)
    errors = [r for r in rows if r["error_kind"] == "provider"]
    assert len(rows) == 6 and len(errors) == 2
    assert all(r["verdict"] is None and "HTTP 500" in r["error"] and "1 attempt" in r["error"] for r in errors)
    assert "re-run to retry" in render_summary(summary)

    healthy = JudgeServer(closer)
    model, _ = judge_model(healthy, clean_env)
    code, summary = run(pairwise(args, browser=browser, model=model))
    assert code == 0 and len(healthy.requests) == 2 and summary["counts"]["resumed"] == 4
    rows = rows_of(out)
    assert len(rows) == 6 and all(r["verdict"] is not None for r in rows)  # one row per unit, no stale errors
    assert len({(r["a"], r["b"], r["order"]) for r in rows}) == 6

    idle = JudgeServer(closer)
    model, _ = judge_model(idle, clean_env)
    code, summary = run(pairwise(args, browser=browser, model=model))
    assert code == 0 and idle.requests == [] and rows_of(out) == rows and summary["counts"]["resumed"] == 6


def test_budget_stops_new_calls(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    server = JudgeServer(closer)
    model, _ = judge_model(server, clean_env)
    code, summary = run(pairwise(args_for(prefs, runs, tasks_dir, out, "--max-cost", "0"), browser=browser,
                                 model=model))
    assert code == 1 and server.requests == [] and rows_of(out) == []
    assert summary["counts"]["budget"] + summary["counts"]["not_asked"] == 18
    assert "--max-cost" in render_summary(summary)


def test_anthropic_adapter_path(setup, tasks_dir, browser, run, clean_env):
    prefs, runs, out = setup
    server = JudgeServer(always("pairwise_anthropic_verdict_2"), "anthropic")
    spec = "anthropic/claude-haiku-4-5-20251001"
    model, _ = judge_model(server, clean_env, spec)
    code, _ = run(pairwise(args_for(prefs, runs, tasks_dir, out, "--limit", "1", "--dimensions", "appearance",
                                    judge=spec), browser=browser, model=model))
    assert code == 0 and not server.problems and len(server.requests) == 2
    for body in server.bodies():
        assert len(images_sent("anthropic", body)) == 3 * N and "Candidate 2, t=0.90 s" in json.dumps(body)
        assert "random" in body["system"]
    rows = rows_of(out)
    assert {r["order"]: r["verdict"] for r in rows} == {"ab": "b", "ba": "a"}
    assert all(r["judge_model"] == spec and r["cost_usd"] > 0 for r in rows)


def test_render_instants_matches_render_page_for_raf_driven_pages(tasks_dir, browser, run):
    page = (f"<!doctype html><html><head><style>{STYLE}</style></head><body><canvas id=c width=160 height=120>"
            "</canvas><script>let x=0;const g=document.getElementById('c').getContext('2d');"
            "function f(){x+=7;g.fillStyle='#fff';g.fillRect(0,0,160,120);g.fillStyle='#0a0';"
            "g.fillRect(x%150,50,12,12);requestAnimationFrame(f)}requestAnimationFrame(f)</script></body></html>")
    task = load_task(tasks_dir / "animation" / "slide")
    idx = frame_indices(10, 4)
    frames, fatal = run(render_instants(browser, task, page.encode(), idx))
    full = run(render_page(browser, page, viewport=SIZE, fps=10, n_frames=10))
    assert fatal is None and idx == [0, 3, 6, 9]
    for got, i in zip(frames, idx):
        assert np.array_equal(got, full.frames[i]), i
    assert not np.array_equal(frames[1], frames[2])  # the square moved (one rAF step per frame)


def test_interactive_tasks_use_checkpoints_or_are_skipped(tmp_path, browser, run, clean_env):
    def png(colour):
        buf = io.BytesIO()
        Image.new("RGB", (160, 120), colour).save(buf, format="PNG")
        return buf.getvalue()

    task_dir = tmp_path / "tasks" / "form"
    (task_dir / "checkpoints").mkdir(parents=True)
    shots = {"checkpoints/initial.png": png((250, 250, 250)), "checkpoints/step_0.png": png((200, 40, 40)),
             "checkpoints/step_1.png": png((40, 200, 40))}
    for rel, data in shots.items():
        (task_dir / rel).write_bytes(data)
    actions = [Action(type="click", description="Click Add", checkpoint="checkpoints/step_0.png"),
               Action(type="click", description="Click Save", checkpoint="checkpoints/step_1.png")]
    save_spec(TaskSpec(id="form", family="interactive", viewport=SIZE, duration_s=3, actions=actions), task_dir)
    # candidate screenshots where agents.judge_graph writes them (docs/CONTRACTS.md)
    names = {"checkpoints/initial.png": "form/initial.png", "checkpoints/step_0.png": "form/steps/step_00_after.png",
             "checkpoints/step_1.png": "form/steps/step_01_after.png"}
    same = {names[rel]: data for rel, data in shots.items()}
    wrong = {names[rel]: png((0, 0, 200)) for rel in shots}
    runs = [str(write_run(tmp_path, "good", {"form": "<p>x</p>"}, same)),
            str(write_run(tmp_path, "bad", {"form": "<p>y</p>"}, wrong)),
            str(write_run(tmp_path, "plain", {"form": "<p>z</p>"}, {"form/steps/step_00_before.png": png((1, 2, 3))}))]
    prefs = tmp_path / "prefs.jsonl"
    prefs.write_text("".join(json.dumps({"task_id": "form", "a": a, "b": b, "dimension": "overall", "winner": "a"})
                             + "\n" for a, b in (("good", "bad"), ("good", "plain"))))
    out = tmp_path / "pairwise.jsonl"
    server = JudgeServer(closer)
    model, _ = judge_model(server, clean_env)
    code, summary = run(pairwise(args_for(prefs, runs, tmp_path / "tasks", out, "--dimensions", "overall"),
                                 browser=browser, model=model))
    assert code == 0 and len(server.requests) == 2
    assert summary["skipped"] == {"interactive task without matching checkpoint screenshots in the runs' "
                                  "artifacts": 1}
    body = server.bodies()[0]
    assert len(images_sent("openai", body)) == 9
    assert "Reference, after step 2: Click Save" in json.dumps(body) and "screenshots" in json.dumps(body)
    assert {r["order"]: r["verdict"] for r in rows_of(out)} == {"ab": "b", "ba": "b"}  # bad < good; good wins


def test_cli_default_output_summary_and_exit_codes(setup, tasks_dir, clean_env, monkeypatch, capsys):
    from judge import pairwise as command
    from judge.cli import main

    prefs, runs, _ = setup
    server = JudgeServer(closer)
    model, _ = judge_model(server, clean_env)
    monkeypatch.setattr(command, "_make_model", lambda args: model)
    argv = ["pairwise", "--prefs", str(prefs), "--run", *runs, "--tasks", str(tasks_dir),
            "--judge-model", "openai/gpt-4o", "--limit", "1", "--dimensions", "overall,motion"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "swap-consistent" in out and "overall" in out and "cost $" in out
    first_run = Path(runs[0].split("=", 1)[1] if "=" in runs[0] else runs[0])
    assert len(rows_of(first_run / "pairwise.jsonl")) == 4  # default --out: FIRST_RUN/pairwise.jsonl

    assert main(argv[:-1] + ["overall,speed"]) == 2
    assert "--dimensions: unknown ['speed']" in capsys.readouterr().err

    denied = JudgeServer(always("openai_auth_error"))
    model, _ = judge_model(denied, clean_env)
    monkeypatch.setattr(command, "_make_model", lambda args: model)
    # appearance was not asked above, so nothing is in the cache: the first request meets the 401
    assert main(argv[:-1] + ["appearance", "--out", str(first_run / "other.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "aborted" in err and "OPENAI_API_KEY" in err and "401" in err and denied.requests
    assert rows_of(first_run / "other.jsonl") == []  # an auth error is not recorded as a verdict or error row
